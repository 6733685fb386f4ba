"""The probe's `slurm` section: the scontrol records of the jobs a host's processes run in."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from clustertop.model.slurm import SlurmJob, SlurmState
from clustertop.parsers.slurm import parse_scontrol_jobs
from clustertop.sources.slurm_join import with_job
from clustertop.sources.ssh.probe import Frame
from clustertop.sources.ssh.sections import ProcsReading

_ENDED = "Invalid job id"
"""scontrol's words for a job that has ended since its id was asked for (not an error)."""


def read_slurm(body: str) -> tuple[dict[str, SlurmJob], str | None]:
    """Jobs by id, and scontrol's first complaint other than an ended job (None: none)."""
    jobs = parse_scontrol_jobs(body)
    complaints = [
        line.strip()
        for line in body.splitlines()
        if line.strip() and not line.startswith((" ", "JobId=")) and _ENDED not in line
    ]
    error = None if jobs or not complaints else f"scontrol: {complaints[0][:200]}"
    return jobs, error


@dataclass(slots=True)
class SlurmView:
    """What the slurm sections of a host's frames said (the host runs Slurm once one came)."""

    hang_s: float = 10.0
    """A run pending longer than this is reported as not answering."""
    seen: bool = False
    """A slurm section came: slurmd and scontrol are on the host."""
    jobs: dict[str, SlurmJob] = field(default_factory=dict)
    """The jobs of the last run, by id."""
    error: str | None = None
    """Why the last run gave nothing (or that one hangs)."""

    def take(self, frame: Frame) -> None:
        """Fold in one frame's slurm section and pending line."""
        output = frame.sections.get("slurm")
        if output is not None:
            self.seen = True
            self.jobs, self.error = read_slurm(output.body)
        started, now = frame.pending.get("slurm"), frame.uptime
        if started is not None and now is not None and now - started > self.hang_s:
            self.error = f"scontrol: no answer for {now - started:.0f} s"

    def state(self) -> SlurmState | None:
        """The snapshot's `slurm` (None: no slurm section yet, the host runs no slurmd)."""
        return SlurmState(dict(self.jobs), self.error) if self.seen else None

    def enrich(self, procs: ProcsReading | None, node: str | None) -> ProcsReading | None:
        """The reading with its Slurm attributions completed from scontrol."""
        if procs is None or not self.jobs:
            return procs
        found = {pid: with_job(a, self.jobs, node) for pid, a in procs.attributions.items()}
        return dataclasses.replace(procs, attributions={p: a for p, a in found.items() if a})
