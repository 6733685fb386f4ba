"""Local Slurm jobs from `scontrol show job -d`, read only for jobs whose environ is unreadable."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace

from clustertop.model.attribution import SLURM, VIA_JOB_USER, Attribution
from clustertop.parsers.slurm import SlurmJob, parse_scontrol_jobs

SCONTROL_TIMEOUT_S = 3.0
"""Longest an scontrol may take; a hung Slurm leaves names unknown, nothing else."""

REFRESH_S = 10.0
"""A job still unknown after a reading is asked for again at most this often."""


def jobs_wanted(found: Iterable[Attribution | None]) -> set[str]:
    """Slurm job ids whose name is unknown (their environment was not readable)."""
    return {a.id for a in found if a is not None and a.kind == SLURM and a.name is None}


class SlurmCatalog:
    """Jobs by id, from scontrol, asked for when a process names a job not described yet."""

    def __init__(self, command: str = "scontrol") -> None:
        self._command = command
        self._jobs: Mapping[str, SlurmJob] = {}
        self._last = -REFRESH_S
        self._lock = threading.Lock()
        self.error: str | None = None
        """Why the last scontrol failed (None: it worked or never ran)."""

    @property
    def jobs(self) -> Mapping[str, SlurmJob]:
        """Jobs of the last reading, by id."""
        return self._jobs

    def want(self, ids: Iterable[str]) -> None:
        """Make sure these jobs are described (runs scontrol when one is new)."""
        missing = sorted({i for i in ids if i.isdigit() and i not in self._jobs})
        if not missing or time.monotonic() - self._last < REFRESH_S:
            return
        with self._lock:
            if time.monotonic() - self._last < REFRESH_S:
                return
            self._last = time.monotonic()
            found = self._read(missing)
            if found is not None:
                self._jobs = {**self._jobs, **found}

    def _read(self, ids: list[str]) -> dict[str, SlurmJob] | None:
        path = shutil.which(self._command)
        if path is None:
            self.error = "scontrol not found"
            return None
        try:
            done = subprocess.run(
                [path, "show", "job", "-d", ",".join(ids)],
                capture_output=True, timeout=SCONTROL_TIMEOUT_S, check=False,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            self.error = f"scontrol: no answer within {SCONTROL_TIMEOUT_S:g} s"
            return None
        except OSError as exc:
            self.error = f"scontrol: {exc.strerror or exc}"
            return None
        self.error = None
        return parse_scontrol_jobs(done.stdout.decode("utf-8", "replace"))


def _gpus_here(job: SlurmJob) -> tuple[int, ...] | None:
    if len(job.gpus) == 1:
        return next(iter(job.gpus.values()))
    return job.gpus.get(socket.gethostname().split(".")[0])


def with_job(found: Attribution | None, jobs: Mapping[str, SlurmJob]) -> Attribution | None:
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
        gpus=found.gpus if found.gpus is not None else _gpus_here(job),
    )
