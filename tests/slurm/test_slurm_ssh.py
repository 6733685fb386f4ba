"""Slurm over SSH: the probe's slurm section (scontrol) names the job, its user and its GPUs."""

from __future__ import annotations

import subprocess

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.fleet.simhost import SimHost
from tests.slurm.cluster import JOB_USER, SlurmCluster, wait_running
from tests.ssh.helpers import run_once

BUSY = "exec python3 -c 'while True: pass'"


def _start_time(slurm: SlurmCluster, job: str) -> str:
    out = subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%S"], env=slurm.env, capture_output=True, text=True,
        timeout=30, check=True,
    )  # fmt: skip
    return out.stdout.strip()


def test_a_slurm_gpu_process_over_ssh(
    fleet: Fleet, slurm_host: SimHost, slurm: SlurmCluster
) -> None:
    """The loopback hosts share this machine's /proc: a real job's process is theirs too."""
    holder = slurm.submit("--gres=gpu:1", "--job-name=holder", wrap="exec sleep 300")
    wait_running(slurm, holder)
    job = slurm.submit("--gres=gpu:1", "--job-name=ssh-train", wrap=BUSY)
    (pid,) = wait_running(slurm, job, command="python3")
    try:
        name = slurm_host.name
        (index,) = slurm.job_gpus(job)  # 1, unless an earlier test's job still holds it
        gpus = [gpu(name, i, H200) for i in range(4)]
        slurm_host.set_gpu_spec(spec(gpus, [{"gpu": index, "pid": pid, "used_memory_mib": 1000}]))
        result = run_once(fleet, name, args=("--stale-after", "0"), timeout=10)
        assert result.returncode == 0, result.stderr
        host = result.host(name)
        (proc,) = host["gpu_processes"]
        found = proc["attribution"]
        # scontrol, run by the probe, names the job; the v1 cgroup's uid_65534 agrees.
        assert (found["kind"], found["id"], found["step"], found["uid"]) == (
            "slurm", job, "batch", 65534)  # fmt: skip
        assert (proc["owner"], found["owner"], found["via"]) == (JOB_USER, JOB_USER, "job-user")
        assert (found["name"], found["partition"], found["gpus"]) == ("ssh-train", "debug", [index])
        rows = {p["pid"]: p for p in host["processes"]}
        assert rows[pid]["attribution"]["id"] == job
        assert host["slurmd"] is True and host["slurm_error"] is None
        jobs = {j["id"]: j for j in host["slurm_jobs"]}
        assert (jobs[job]["user"], jobs[job]["name"], jobs[job]["gpus"]) == (
            JOB_USER, "ssh-train", [index])  # fmt: skip
        assert (jobs[job]["state"], jobs[job]["start_time"]) == ("RUNNING", _start_time(slurm, job))
        # Its GPU reads 0 % (the stand-in's default): stale at once with --stale-after 0 (the
        # holder too, when its sleep is among the processes listed: it holds an idle GPU).
        stale = {(s["host"], s["id"]) for s in result.doc["slurm_jobs_stale"]}
        assert (name, job) in stale and stale <= {(name, job), (name, holder)}
    finally:
        slurm.cancel(holder)
        slurm.cancel(job)


def test_a_hanging_scontrol_over_ssh_holds_up_nothing(
    fleet: Fleet, slurm_host: SimHost, slurm: SlurmCluster
) -> None:
    """scontrol that never answers: the frame comes on time, attribution from the cgroup."""
    stub = slurm_host.bin_dir / "scontrol"
    stub.write_text("#!/bin/sh\nexec sleep 600\n")
    stub.chmod(0o755)
    job = slurm.submit("--job-name=hang-ssh", wrap=BUSY)
    (pid,) = wait_running(slurm, job, command="python3")
    try:
        result = run_once(fleet, slurm_host.name, timeout=5)
        assert result.returncode == 0, result.stderr
        host = result.host(slurm_host.name)
        assert host["state"] == "up" and host["processes_error"] is None
        assert "procs" not in str(host["stale_sections"])
        found = {p["pid"]: p for p in host["processes"]}[pid]["attribution"]
        assert (found["kind"], found["id"], found["owner"]) == ("slurm", job, JOB_USER)
        assert found["name"] is None  # scontrol never answered
    finally:
        stub.unlink()
        slurm.cancel(job)
