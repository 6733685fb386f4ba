"""Slurm jobs gathered from process attributions: GPUs, elapsed time, utilisation, JSON."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.jobs import jobs_json, slurm_jobs
from clustertop.model.attribution import Attribution
from tests.analysis.builders import gpu, proc, snap, top_process


def _job(job: str, name: str | None = None, gpus: tuple[int, ...] | None = None) -> Attribution:
    return Attribution("slurm", job, name=name, owner="alice", via="job-user", gpus=gpus,
                       partition="gpu" if name else None)  # fmt: skip


def test_jobs_from_gpu_processes_and_processes() -> None:
    a = dataclasses.replace(proc(1, 0), attribution=_job("12"), start_time=900.0)
    b = dataclasses.replace(proc(2, 1), attribution=_job("12", "train", (0, 1)), start_time=950.0)
    c = dataclasses.replace(top_process(3, "bob"), attribution=_job("9"), start_time=990.0)
    other = dataclasses.replace(proc(4, 2), attribution=Attribution("session", "3"))
    host = snap(
        "gpu01",
        gpus=(gpu(0, 10.0, 100), gpu(1, 30.0, 100), gpu(2, 99.0, 100)),
        gpu_processes=(a, b, other),
        processes=(c,),
    )
    host = dataclasses.replace(host, time=1000.0)
    nine, twelve = slurm_jobs(host)
    assert (twelve.id, twelve.name, twelve.partition, twelve.gpus) == ("12", "train", "gpu", (0, 1))
    assert (twelve.elapsed_s, twelve.gpu_util_percent, twelve.processes) == (100.0, 20.0, 2)
    assert (nine.id, nine.gpus, nine.gpu_util_percent, nine.processes) == ("9", (), None, 1)
    assert jobs_json([nine])[0] == {
        "id": "9", "user": "alice", "name": None, "account": None, "partition": None,
        "gpus": [], "elapsed_s": 10.0, "gpu_util_percent": None, "processes": 1,
        "start_time": None, "state": None,
    }  # fmt: skip


def test_no_attribution_no_jobs() -> None:
    assert slurm_jobs(snap("gpu01", gpu_processes=(proc(1, 0),))) == []
