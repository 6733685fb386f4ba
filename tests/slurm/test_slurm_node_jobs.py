"""Every job with a cgroup on the node is in the jobs pane, not only those whose processes
made the process table's top rows (an idle job's `sleep` never does on a busy node)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from clustertop.sources.local import source as local_source
from clustertop.sources.local.slurm import node_jobs
from clustertop.sources.local.source import LocalSource
from tests.slurm.cluster import JOB_USER, SlurmCluster, wait_running


def test_node_jobs_are_the_job_folders_with_a_numeric_id(tmp_path: Path) -> None:
    for name in ("slurm_a/uid_0/job_12", "slurm_a/uid_7/job_3", "slurm_a/uid_7/job_x"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "scope" / "job_40").mkdir(parents=True)
    patterns = (f"{tmp_path}/slurm*/uid_*/job_*", f"{tmp_path}/scope/job_*")
    assert node_jobs(patterns) == {"12", "3", "40"}
    assert node_jobs((f"{tmp_path}/none/job_*",)) == set()


async def test_a_job_whose_processes_are_not_listed_is_still_described(
    slurm_env: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slurm = slurm_env
    job = slurm.submit("--job-name=quiet-one", wrap="exec sleep 300")
    try:
        wait_running(slurm, job)
        source = LocalSource(0.5, docker_host=f"unix://{tmp_path / 'none.sock'}")
        # As on a busy node where the job's idle `sleep` is in neither top list: no listed process
        # names a job, so the job can only be found by its cgroup.
        monkeypatch.setattr(local_source, "jobs_wanted", lambda found: set())
        try:
            described = None
            for _ in range(180):  # bounded: 90 s (scontrol runs in the background)
                snap = await source.snapshot()
                if snap.slurm is not None and job in snap.slurm.jobs:
                    described = snap.slurm.jobs[job]
                    break
                await asyncio.sleep(0.5)
            assert described is not None, f"job {job} never described"
            assert (described.user, described.name) == (JOB_USER, "quiet-one")
        finally:
            await source.aclose()
    finally:
        slurm.cancel(job)
