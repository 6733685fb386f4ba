"""Stale Slurm jobs: holding GPUs that stayed idle for the stale period (the containers' rule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clustertop.analysis.idle_runs import IdleRuns
from clustertop.analysis.jobs import slurm_jobs
from clustertop.analysis.stale import DEFAULT_GAP_S, DEFAULT_STALE_AFTER, DEFAULT_UTIL_PERCENT
from clustertop.model import HostSnapshot, Section


@dataclass(slots=True)
class _HostJobs:
    runs: IdleRuns[str] = field(default_factory=IdleRuns)
    last_time: float | None = None


def gpus_verdict(held: tuple[int, ...], snap: HostSnapshot, util_percent: float) -> bool | None:
    """The GPUs a job or pod holds: True idle, False busy, None unknown (no fresh GPU reading,
    or a GPU's utilisation N/A)."""
    if not held or not snap.gpus or Section.GPU in snap.stale:
        return None
    util = {gpu.index: None if gpu.error else gpu.util_percent for gpu in snap.gpus}
    values = [util.get(index) for index in held]
    if any(v is not None and v > util_percent for v in values):
        return False
    return None if any(v is None for v in values) else True


@dataclass(slots=True)
class JobStaleTracker:
    """Per host and job id: when its GPUs' current idle run began; stale after `stale_after`.

    A job counts when it holds GPUs (physical indices from SLURM_JOB_GPUS / GRES IDX, else the
    GPUs its processes use). A busy reading ends the run; an unknown one neither ends nor
    extends it; a job no longer seen, a host that is not up, or a gap of more than `gap_s`
    between readings ends it, as for containers.
    """

    stale_after: float = DEFAULT_STALE_AFTER
    util_percent: float = DEFAULT_UTIL_PERCENT
    gap_s: float = DEFAULT_GAP_S
    _hosts: dict[str, _HostJobs] = field(default_factory=dict)

    def update(self, snap: HostSnapshot) -> None:
        """Take the host's next snapshot (time-ordered per host)."""
        host = self._hosts.setdefault(snap.name, _HostJobs())
        if not snap.is_up:
            self._hosts[snap.name] = _HostJobs()
            return
        gap = host.last_time is not None and not 0 <= snap.time - host.last_time <= self.gap_s
        if gap:
            host = self._hosts[snap.name] = _HostJobs()
        host.last_time = snap.time
        jobs = slurm_jobs(snap)
        for job in jobs:
            host.runs.mark(job.id, gpus_verdict(job.gpus, snap, self.util_percent), snap.time)
        host.runs.keep_only(job.id for job in jobs)

    def stale(self, host: str) -> dict[str, float]:
        """Stale job ids of a host -> when their idle run began."""
        runs = self._hosts.get(host)
        return runs.runs.stale(self.stale_after) if runs is not None else {}


def stale_jobs_json(tracker: JobStaleTracker, hosts: list[str]) -> list[dict[str, Any]]:
    """`[{"host", "id", "idle_since"}]` for --json."""
    return [
        {"host": host, "id": job, "idle_since": since}
        for host in hosts
        for job, since in sorted(tracker.stale(host).items(), key=lambda kv: int(kv[0]))
    ]
