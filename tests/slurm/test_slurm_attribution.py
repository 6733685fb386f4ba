"""A process in a real Slurm job, attributed end to end: job id, user, name, physical GPUs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from clustertop.parsers.cgroup import classify_cgroup
from clustertop.sources.local.attribution import attribution_of
from clustertop.sources.local.slurm import SCONTROL_TIMEOUT_S, SlurmCatalog, jobs_wanted, with_job
from tests.slurm.cluster import JOB_USER, SlurmCluster, wait_running
from tests.waiting import wait_for

# Busy, so that it is among the top processes by CPU whatever else runs on the machine.
BUSY = "exec python3 -c 'while True: pass'"


def _once_json(env: dict[str, str] | None = None, timeout: float = 60) -> dict[str, Any]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    done = subprocess.run(
        [sys.executable, "-m", "clustertop", "--once", "--json", "--timeout", "5"],
        capture_output=True, text=True, timeout=timeout, env={**base, **(env or {})}, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def _row(doc: dict[str, Any], pid: int) -> dict[str, Any]:
    (host,) = doc["hosts"]
    rows = [p for p in host["processes"] if p["pid"] == pid]
    assert rows, f"pid {pid} not among the listed processes"
    return rows[0]


def _gpu_jobs(slurm: SlurmCluster) -> tuple[str, str, int]:
    """A 1-GPU job (takes GPU 0), then a busy 2-GPU job: it gets physical GPUs 1 and 2."""
    first = slurm.submit("--gres=gpu:1", "--job-name=holder", wrap="exec sleep 300")
    wait_running(slurm, first)
    second = slurm.submit("--gres=gpu:2", "--mem=200M", "--job-name=train-run", wrap=BUSY)
    (pid,) = wait_running(slurm, second, command="python3")
    return first, second, pid


def test_a_job_process_is_attributed_in_once_json(slurm: SlurmCluster) -> None:
    first, second, pid = _gpu_jobs(slurm)
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"CUDA_VISIBLE_DEVICES=0,1\0" in environ  # renumbered inside the job
        doc = _once_json()
        row = _row(doc, pid)
        assert row["user"] == JOB_USER
        assert row["attribution"] == {
            "kind": "slurm",
            "id": second,
            "name": "train-run",
            "owner": JOB_USER,
            "via": "job-user",
            "step": "batch",
            "uid": 65534,
            "container_id": None,
            "gpus": [1, 2],
            "account": None,
            "namespace": None,
            "partition": "debug",
        }
        jobs = {job["id"]: job for job in doc["hosts"][0]["slurm_jobs"]}
        job = jobs[second]
        assert (job["user"], job["name"], job["partition"], job["gpus"]) == (
            JOB_USER, "train-run", "debug", [1, 2])  # fmt: skip
        assert job["processes"] >= 1 and job["elapsed_s"] >= 0
        assert job["gpu_util_percent"] is None  # no GPU readings on this machine
    finally:
        slurm.cancel(first)
        slurm.cancel(second)


def test_hanging_slurm_commands_do_not_delay_once(slurm: SlurmCluster, tmp_path: Path) -> None:
    """Attribution reads /proc only: a Slurm whose commands hang cannot hold up a reading."""
    for name in ("scontrol", "squeue", "sinfo", "sacct"):
        stub = tmp_path / name
        stub.write_text("#!/bin/sh\nexec sleep 601.25\n")
        stub.chmod(0o755)
    job = slurm.submit("--job-name=hang-check", wrap=BUSY)
    (pid,) = wait_running(slurm, job, command="python3")
    try:
        started = time.monotonic()
        doc = _once_json({"PATH": f"{tmp_path}:{os.environ['PATH']}"}, timeout=30)
        assert time.monotonic() - started < 30
        found = _row(doc, pid)["attribution"]
        assert (found["kind"], found["id"], found["owner"]) == ("slurm", job, JOB_USER)
        assert doc["hosts"][0]["slurmd"] is True
        # The hung scontrol the local source started ends with clustertop, not after 600 s.
        wait_for(lambda: not _stubs_running(), 30, 0.1, "no hung scontrol left behind")
    finally:
        slurm.cancel(job)


def _stubs_running() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (entry / "cmdline").read_bytes() == b"sleep\x00601.25\x00":
                found.append(entry.name)
        except OSError:
            continue
    return found


def test_the_local_reader_on_a_real_job(slurm: SlurmCluster) -> None:
    job = slurm.submit("--job-name=sleeper", wrap="exec sleep 300")
    (pid,) = wait_running(slurm, job)
    try:
        found = attribution_of(pid)
        assert found is not None
        assert (found.kind, found.id, found.step, found.uid) == ("slurm", job, "batch", 65534)
        assert (found.owner, found.via, found.name, found.gpus) == (
            JOB_USER, "job-user", "sleeper", None)  # fmt: skip
    finally:
        slurm.cancel(job)


def test_scontrol_describes_a_job_whose_environment_is_unreadable(
    slurm: SlurmCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another user's environ is unreadable: name, account and GRES IDX come from scontrol."""
    first, second, pid = _gpu_jobs(slurm)
    try:
        monkeypatch.setenv("SLURM_CONF", str(slurm.conf))
        monkeypatch.setenv("PATH", slurm.env["PATH"])
        cgroup_only = classify_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
        catalog = SlurmCatalog()
        catalog.want(jobs_wanted([cgroup_only]))
        wait_for(lambda: second in catalog.jobs, 30, 0.05, "scontrol's answer")
        assert catalog.error is None
        found = with_job(cgroup_only, catalog.jobs)
        assert found is not None
        assert (found.id, found.name, found.owner, found.via, found.gpus) == (
            second, "train-run", JOB_USER, "job-user", (1, 2))  # fmt: skip
    finally:
        slurm.cancel(first)
        slurm.cancel(second)


def test_a_hanging_scontrol_is_cut_at_its_timeout(tmp_path: Path) -> None:
    """scontrol runs off the reading's thread: want() goes on, the hung run ends at its timeout."""
    stub = tmp_path / "scontrol"
    stub.write_text("#!/bin/sh\nexec sleep 600\n")
    stub.chmod(0o755)
    catalog = SlurmCatalog(command=str(stub))
    catalog.want(["12"])
    assert catalog.jobs == {}
    wait_for(lambda: catalog.error is not None, SCONTROL_TIMEOUT_S + 30, 0.05, "scontrol's timeout")
    assert catalog.error == f"scontrol: no answer within {SCONTROL_TIMEOUT_S:g} s"
    assert catalog.jobs == {}
