"""Stale Slurm jobs: idle GPUs for the stale period, the containers' edge cases."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.stale_jobs import JobStaleTracker, stale_jobs_json
from clustertop.model import HostState, Section
from clustertop.model.attribution import Attribution
from tests.analysis.builders import gpu, proc, snap

JOB = Attribution("slurm", "12", owner="alice", via="job-user", gpus=(0, 1))


def _host(t: float, util0: float | None, util1: float | None = 0.0, job: Attribution = JOB):
    row = dataclasses.replace(proc(1, 0), attribution=job, start_time=0.0)
    return snap("gpu01", t, gpus=(gpu(0, util0, 100), gpu(1, util1, 100)), gpu_processes=(row,))


def test_idle_for_the_stale_period_is_stale_and_a_busy_reading_ends_it() -> None:
    tracker = JobStaleTracker(stale_after=60.0, util_percent=5.0)
    for t in (0.0, 30.0, 60.0):
        tracker.update(_host(t, 1.0))
    assert tracker.stale("gpu01") == {"12": 0.0}
    assert stale_jobs_json(tracker, ["gpu01"]) == [{"host": "gpu01", "id": "12", "idle_since": 0.0}]
    tracker.update(_host(90.0, 1.0, util1=80.0))  # its second GPU is busy
    assert tracker.stale("gpu01") == {}


def test_unknown_readings_neither_end_nor_extend_and_gaps_end() -> None:
    tracker = JobStaleTracker(stale_after=60.0, util_percent=5.0, gap_s=300.0)
    tracker.update(_host(0.0, 0.0))
    tracker.update(_host(50.0, None))  # utilisation N/A
    stale_gpu = dataclasses.replace(_host(70.0, 0.0), stale={Section.GPU: 10.0})
    tracker.update(stale_gpu)
    assert tracker.stale("gpu01") == {}  # only 0..0 proven idle so far
    tracker.update(_host(60.0 + 10, 0.0))
    assert tracker.stale("gpu01") == {"12": 0.0}
    tracker.update(_host(1000.0, 0.0))  # a gap of more than 5 minutes
    assert tracker.stale("gpu01") == {}


def test_zero_marks_at_once_and_a_down_host_or_a_gone_job_ends_it() -> None:
    tracker = JobStaleTracker(stale_after=0.0)
    tracker.update(_host(0.0, 0.0))
    assert tracker.stale("gpu01") == {"12": 0.0}
    tracker.update(snap("gpu01", 1.0, state=HostState.UNREACHABLE, error="x"))
    assert tracker.stale("gpu01") == {}
    tracker.update(_host(2.0, 0.0))
    tracker.update(snap("gpu01", 3.0, gpus=(gpu(0, 0.0, 100),)))  # the job's process is gone
    assert tracker.stale("gpu01") == {}


def test_a_job_without_known_gpus_is_never_stale() -> None:
    tracker = JobStaleTracker(stale_after=0.0)
    cpu_only = Attribution("slurm", "13", owner="bob", via="job-user")
    row = dataclasses.replace(proc(1, 0), attribution=cpu_only)
    tracker.update(snap("gpu01", 0.0, gpus=(), gpu_processes=(row,)))
    assert tracker.stale("gpu01") == {}
