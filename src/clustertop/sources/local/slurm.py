"""Local Slurm jobs from `scontrol show job -d`: every job a process runs in, read off-thread."""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterable, Mapping

from clustertop.model.attribution import SLURM, Attribution
from clustertop.model.slurm import SlurmJob, SlurmState
from clustertop.parsers.slurm import parse_scontrol_jobs
from clustertop.sources.local.tool_catalog import ToolCatalog
from clustertop.sources.slurm_join import with_job as _with_job

SCONTROL_TIMEOUT_S = 3.0
"""Longest an scontrol may take; a hung Slurm leaves names unknown, nothing else."""

REFRESH_S = 10.0
"""A new job is asked for at most this often."""

RECHECK_S = 60.0
"""Known jobs are read again this often (a requeued job gets a new start time)."""

WAIT_S = 0.5
"""How long a reading waits for scontrol before going on without it (the answer lands later)."""

MAX_JOBS = 32
"""Most jobs described per reading (one scontrol run each)."""


_RUNNING: set[subprocess.Popen[bytes]] = set()
"""scontrol runs under way: ended when clustertop exits (a hung one must not outlive it)."""


@atexit.register
def _end_running() -> None:
    for child in list(_RUNNING):
        with contextlib.suppress(OSError):
            child.kill()


def _scontrol(argv: list[str]) -> bytes:
    """One scontrol run's output; TimeoutExpired after SCONTROL_TIMEOUT_S (the run killed)."""
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    _RUNNING.add(child)
    try:
        out, _ = child.communicate(timeout=SCONTROL_TIMEOUT_S)
        return out
    except subprocess.TimeoutExpired:
        child.kill()
        child.communicate()
        raise
    finally:
        _RUNNING.discard(child)


def jobs_wanted(found: Iterable[Attribution | None]) -> set[str]:
    """Slurm job ids of these attributions (each is described for its start time and state)."""
    return {a.id for a in found if a is not None and a.kind == SLURM}


JOB_CGROUPS = (
    "/sys/fs/cgroup/freezer/slurm*/uid_*/job_*",
    "/sys/fs/cgroup/system.slice/slurmstepd.scope/job_*",
)
"""Where slurmd puts each job's processes (cgroup v1 freezer, v2), as the SSH probe globs them."""


def node_jobs(patterns: Iterable[str] = JOB_CGROUPS) -> set[str]:
    """Ids of the jobs with a cgroup on this node: every job, not only those whose processes
    made the process table's top rows (an idle job's `sleep` never does on a busy node)."""
    found = set()
    for pattern in patterns:
        for path in glob.iglob(pattern):
            job_id = path.rsplit("/job_", 1)[-1]
            if job_id.isdigit():
                found.add(job_id)
    return found


def runs_slurmd() -> bool:
    """True where slurmd and scontrol are installed (a Slurm compute node)."""
    path = "/usr/local/sbin:/usr/sbin:/sbin:" + os.environ.get("PATH", "")
    return shutil.which("slurmd", path=path) is not None and shutil.which("scontrol") is not None


class SlurmCatalog(ToolCatalog):
    """Jobs by id, from scontrol, asked for when a process names a job not described yet.

    scontrol runs in a thread of its own: a reading waits at most WAIT_S for it, so a hung
    Slurm never holds a section beyond its deadline.
    """

    def __init__(self, command: str = "scontrol") -> None:
        super().__init__(command, "scontrol", "scontrol")
        self._jobs: Mapping[str, SlurmJob] = {}
        self._thread: threading.Thread | None = None

    @property
    def jobs(self) -> Mapping[str, SlurmJob]:
        """Jobs of the last reading, by id."""
        return self._jobs

    def state(self, ids: Iterable[str]) -> SlurmState:
        """The jobs among `ids` that scontrol described, and its last error."""
        jobs = self._jobs
        return SlurmState({i: jobs[i] for i in sorted(set(ids)) if i in jobs}, self.error)

    def want(self, ids: Iterable[str]) -> None:
        """Make sure these jobs are described (runs scontrol when one is new, or to re-check)."""
        wanted = sorted({i for i in ids if i.isdigit()}, key=int)[:MAX_JOBS]
        new = any(i not in self._jobs for i in wanted)
        if not wanted or not self._due(REFRESH_S if new else RECHECK_S):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return  # the last one still runs (hung): never two at once
            self._start()
            self._thread = threading.Thread(target=self._run, args=(wanted,), daemon=True)
            self._thread.start()
            thread = self._thread
        thread.join(WAIT_S)

    def _run(self, ids: list[str]) -> None:
        found = self._run_tool(lambda path: self._describe(path, ids))
        if found is not None:
            # A job scontrol no longer knows has ended: drop it (ids are not reused soon).
            self._jobs = {**{k: v for k, v in self._jobs.items() if k not in ids}, **found}

    @staticmethod
    def _describe(path: str, ids: list[str]) -> dict[str, SlurmJob]:
        # One job per run: `scontrol show job 1,2` is refused as an invalid job id.
        found: dict[str, SlurmJob] = {}
        for job_id in ids:
            out = _scontrol([path, "show", "job", "-d", job_id])
            found |= parse_scontrol_jobs(out.decode("utf-8", "replace"))
        return found


def with_job(found: Attribution | None, jobs: Mapping[str, SlurmJob]) -> Attribution | None:
    """A Slurm attribution completed from scontrol where its environment said nothing."""
    return _with_job(found, jobs, socket.gethostname())
