"""Slurm jobs as the host's scontrol describes them, and whether the host runs Slurm at all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SlurmJob:
    """One job as scontrol shows it."""

    id: str
    """JobId."""
    user: str | None = None
    """User name of UserId=name(uid) (None when scontrol prints only the uid)."""
    uid: int | None = None
    """Numeric uid."""
    name: str | None = None
    """JobName."""
    account: str | None = None
    """Account ((null) -> None)."""
    partition: str | None = None
    """Partition."""
    state: str | None = None
    """JobState (RUNNING, COMPLETING, ...)."""
    start_time: str | None = None
    """StartTime as printed (local time, ISO-like)."""
    gpus: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Node name list (as the per-node line names it) -> physical GPU indices (GRES IDX)."""


@dataclass(frozen=True, slots=True)
class SlurmState:
    """A host's Slurm (a snapshot's `slurm` is None where the host runs no slurmd)."""

    jobs: Mapping[str, SlurmJob] = field(default_factory=dict)
    """The jobs of its processes, by id, from the last scontrol reading."""
    error: str | None = None
    """Why the last scontrol reading failed (hung, not permitted), None when it worked."""
