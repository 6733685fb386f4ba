"""A Slurm job's facts from a process's environment (/proc/<pid>/environ, NUL-separated)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from clustertop.model.attribution import SLURM, VIA_JOB_USER, Attribution

_KEYS = (
    "SLURM_JOB_ID",
    "SLURM_JOB_USER",
    "SLURM_JOB_NAME",
    "SLURM_JOB_ACCOUNT",
    "SLURM_JOB_GPUS",
    "SLURM_STEP_GPUS",
    "SLURM_JOB_PARTITION",
)
_INDICES = re.compile(r"^[0-9]{1,4}(?:,[0-9]{1,4})*$")
_SAFE = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


@dataclass(frozen=True, slots=True)
class SlurmEnv:
    """The SLURM_* variables that attribute a process."""

    job_id: str | None = None
    """SLURM_JOB_ID."""
    user: str | None = None
    """SLURM_JOB_USER."""
    name: str | None = None
    """SLURM_JOB_NAME."""
    account: str | None = None
    """SLURM_JOB_ACCOUNT (set only when the job has one)."""
    partition: str | None = None
    """SLURM_JOB_PARTITION."""
    gpus: tuple[int, ...] | None = None
    """Physical GPU indices: SLURM_STEP_GPUS, else SLURM_JOB_GPUS (never CUDA_VISIBLE_DEVICES,
    which Slurm renumbers from 0 inside the job)."""


def gpu_indices(text: str | None) -> tuple[int, ...] | None:
    """'1,2' -> (1, 2); None for anything else."""
    if text is None or not _INDICES.match(text):
        return None
    return tuple(int(part) for part in text.split(","))


def parse_environ(data: bytes | str) -> SlurmEnv:
    """The Slurm variables of one environ; values with control characters are dropped."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    found: dict[str, str] = {}
    for entry in text.split("\0"):
        key, sep, value = entry.partition("=")
        if sep and key in _KEYS and _SAFE.match(value):
            found.setdefault(key, value)
    job_id = found.get("SLURM_JOB_ID")
    return SlurmEnv(
        job_id=job_id if job_id and job_id.isdigit() else None,
        user=found.get("SLURM_JOB_USER"),
        name=found.get("SLURM_JOB_NAME"),
        account=found.get("SLURM_JOB_ACCOUNT"),
        partition=found.get("SLURM_JOB_PARTITION"),
        gpus=gpu_indices(found.get("SLURM_STEP_GPUS")) or gpu_indices(found.get("SLURM_JOB_GPUS")),
    )


def with_env(base: Attribution, env: SlurmEnv) -> Attribution:
    """A Slurm classification completed from the environment of the same job.

    The cgroup decides the job; an environment naming another job (a process that inherited
    it and was moved, or a forged variable) is ignored. The environment is the job's own to
    change: its user counts only where the cgroup names no uid (v2), and then only when it is
    the process's own user (checked by the owner rule); name, account and GPUs are the job's
    own claims about itself.
    """
    if base.kind != SLURM or env.job_id != base.id:
        return base
    owner = base.owner or (env.user if base.uid is None else None)
    return replace(
        base,
        name=env.name or base.name,
        owner=owner,
        via=VIA_JOB_USER if owner else base.via,
        account=env.account or base.account,
        partition=env.partition or base.partition,
        gpus=env.gpus if env.gpus is not None else base.gpus,
    )
