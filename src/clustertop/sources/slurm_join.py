"""A Slurm attribution completed from scontrol's record of its job (local and over SSH)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from clustertop.model.attribution import SLURM, VIA_JOB_USER, Attribution
from clustertop.model.slurm import SlurmJob


def gpus_on(job: SlurmJob, node: str | None) -> tuple[int, ...] | None:
    """The job's physical GPU indices on `node` (the only node's, when it has one)."""
    if len(job.gpus) == 1:
        return next(iter(job.gpus.values()))
    return job.gpus.get((node or "").split(".")[0])


def with_job(
    found: Attribution | None, jobs: Mapping[str, SlurmJob], node: str | None = None
) -> Attribution | None:
    """A Slurm attribution completed from scontrol where its environment said nothing."""
    if found is None or found.kind != SLURM or found.id not in jobs:
        return found
    job = jobs[found.id]
    owner = found.owner or job.user
    return replace(
        found,
        name=found.name or job.name,
        owner=owner,
        via=found.via or (VIA_JOB_USER if owner else None),
        account=found.account or job.account,
        partition=found.partition or job.partition,
        gpus=found.gpus if found.gpus is not None else gpus_on(job, node),
    )
