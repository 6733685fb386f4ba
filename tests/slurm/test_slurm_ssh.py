"""Attribution over SSH: the probe sends a job process's cgroup paths once; the client classifies."""

from __future__ import annotations

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.slurm.cluster import JOB_USER, SlurmCluster, wait_running
from tests.ssh.helpers import run_once

BUSY = "exec python3 -c 'while True: pass'"


def test_a_slurm_gpu_process_over_ssh(clean_fleet: Fleet, slurm: SlurmCluster) -> None:
    """The loopback hosts share this machine's /proc: a real job's process is theirs too."""
    job = slurm.submit("--gres=gpu:1", "--job-name=ssh-train", wrap=BUSY)
    (pid,) = wait_running(slurm, job, command="python3")
    try:
        h1 = clean_fleet["h1"]
        h1.set_gpu_spec(
            spec([gpu("h1", 0, H200)], [{"gpu": 0, "pid": pid, "used_memory_mib": 1000}])
        )
        result = run_once(clean_fleet, "h1", args=("--stale-after", "0"))
        assert result.returncode == 0, result.stderr
        (proc,) = result.host("h1")["gpu_processes"]
        found = proc["attribution"]
        # Over SSH the job's environment is not read: owner by its Unix user, which is the
        # job's (the v1 cgroup's uid_65534 agrees).
        assert (found["kind"], found["id"], found["step"], found["uid"]) == (
            "slurm", job, "batch", 65534)  # fmt: skip
        assert (proc["owner"], found["owner"], found["via"]) == (JOB_USER, JOB_USER, "unix-user")
        rows = {p["pid"]: p for p in result.host("h1")["processes"]}
        assert rows[pid]["attribution"]["id"] == job
        jobs = result.host("h1")["slurm_jobs"]
        assert [(j["id"], j["user"], j["gpus"]) for j in jobs] == [(job, JOB_USER, [0])]
        # Its one GPU reads 0 % (the stand-in's default): stale at once with --stale-after 0.
        assert [(s["host"], s["id"]) for s in result.doc["slurm_jobs_stale"]] == [("h1", job)]
    finally:
        slurm.cancel(job)
