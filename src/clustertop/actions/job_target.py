"""A Slurm job as the user saw it when pressing the key: id, user and start time (its identity)."""

from __future__ import annotations

from dataclasses import dataclass

from clustertop.analysis.jobs import JobRow


@dataclass(frozen=True, slots=True)
class JobTarget:
    """A Slurm job; the host re-checks id, user and start time before cancelling it."""

    host: str
    """Host name as the user gave it."""
    job_id: str
    """Job id (digits): the only thing acted on."""
    user: str
    """The job's user when captured (checked on the host)."""
    start_time: str
    """StartTime as the host's Slurm prints it (checked: a requeued job has another)."""
    name: str | None = None
    """Job name (shown)."""
    partition: str | None = None
    """Partition (shown)."""
    gpus: tuple[int, ...] = ()
    """Physical GPU indices (shown)."""

    @classmethod
    def of(cls, host: str, job: JobRow) -> JobTarget | None:
        """Capture a job's identity; None when its user or start time is unknown."""
        if not job.user or not job.start_time:
            return None
        return cls(host, job.id, job.user, job.start_time, job.name, job.partition, job.gpus)

    def describe(self) -> str:
        """One line for confirmations and notifications (host text made safe by the caller)."""
        name = f" {self.name}" if self.name else ""
        started = self.start_time
        return f"{self.host}: Slurm job {self.job_id}{name} user {self.user} started {started}"
