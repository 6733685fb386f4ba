"""Slurm jobs of one host, gathered from the attributions of its processes and GPU processes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clustertop.model import GpuProcess, HostSnapshot, Process
from clustertop.model.attribution import SLURM, Attribution


@dataclass(frozen=True, slots=True)
class JobRow:
    """One Slurm job seen running on a host."""

    id: str
    """Job id."""
    user: str | None
    """The job's user (the owner rule's answer)."""
    name: str | None
    """Job name, when readable."""
    account: str | None
    """Account, when readable."""
    partition: str | None
    """Partition, when readable."""
    gpus: tuple[int, ...]
    """Physical GPU indices: SLURM_JOB_GPUS / GRES IDX, else the GPUs its processes use."""
    elapsed_s: float | None
    """Seconds since its oldest process seen here started (about the job's run time)."""
    gpu_util_percent: float | None
    """Mean utilisation of its GPUs (None when none is known)."""
    processes: int
    """Its processes seen (GPU processes and listed processes, each PID once)."""
    start_time: str | None = None
    """StartTime as the host's scontrol prints it (with id and user, the job's identity)."""
    state: str | None = None
    """JobState from scontrol (RUNNING, COMPLETING, ...)."""


@dataclass(slots=True)
class _Tally:
    first: Attribution
    pids: set[int] = field(default_factory=set)
    used_gpus: set[int] = field(default_factory=set)
    starts: list[float] = field(default_factory=list)


def _rows(snap: HostSnapshot) -> Iterable[GpuProcess | Process]:
    yield from snap.gpu_processes
    yield from snap.processes


def _tally(snap: HostSnapshot) -> dict[str, _Tally]:
    tallies: dict[str, _Tally] = {}
    for row in _rows(snap):
        found = row.attribution
        if found is None or found.kind != SLURM:
            continue
        tally = tallies.setdefault(found.id, _Tally(found))
        if tally.first.name is None and found.name is not None:
            tally.first = found  # a row whose environment was readable says more
        tally.pids.add(row.pid)
        if isinstance(row, GpuProcess):
            tally.used_gpus.add(row.gpu_index)
        if row.start_time is not None:
            tally.starts.append(row.start_time)
    return tallies


def slurm_jobs(snap: HostSnapshot) -> list[JobRow]:
    """The host's Slurm jobs, by job id (numerically)."""
    util = {gpu.index: gpu.util_percent for gpu in snap.gpus}
    rows = []
    for job_id, tally in _tally(snap).items():
        found = tally.first
        gpus = found.gpus if found.gpus is not None else tuple(sorted(tally.used_gpus))
        known = [u for i in gpus if (u := util.get(i)) is not None]
        described = snap.slurm.jobs.get(job_id) if snap.slurm is not None else None
        rows.append(
            JobRow(
                id=job_id,
                user=found.owner or (described.user if described else None),
                name=found.name,
                account=found.account,
                partition=found.partition,
                gpus=gpus,
                elapsed_s=max(0.0, snap.time - min(tally.starts)) if tally.starts else None,
                gpu_util_percent=sum(known) / len(known) if known else None,
                processes=len(tally.pids),
                start_time=described.start_time if described else None,
                state=described.state if described else None,
            )
        )
    return sorted(rows, key=lambda row: int(row.id))


def jobs_json(rows: Iterable[JobRow]) -> list[dict[str, Any]]:
    """Plain dicts for `--json`."""
    return [
        {
            "id": row.id,
            "user": row.user,
            "name": row.name,
            "account": row.account,
            "partition": row.partition,
            "gpus": list(row.gpus),
            "elapsed_s": row.elapsed_s,
            "gpu_util_percent": row.gpu_util_percent,
            "processes": row.processes,
            "start_time": row.start_time,
            "state": row.state,
        }
        for row in rows
    ]
