"""What a local PID belongs to: its cgroup, read once, and a Slurm job's environment."""

from __future__ import annotations

import pwd
from dataclasses import replace

from clustertop.model.attribution import SLURM, VIA_JOB_USER, Attribution
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.parsers.slurm_env import parse_environ, with_env

_CGROUP_LIMIT = 64 * 1024  # a real file is < 2 KiB; more is not a cgroup file we know


def _read(path: str, limit: int) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit)
    except OSError:
        return None


def _user_of_uid(uid: int | None) -> str | None:
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return str(uid)


def attribution_of(pid: int) -> Attribution | None:
    """Classification of one PID (None: its cgroup file is unreadable or it is gone).

    For a Slurm job, the job's user is the uid its cgroup names (v1) or SLURM_JOB_USER, and
    name, account and GPUs come from its environment where readable (root, or the same user).
    """
    data = _read(f"/proc/{pid}/cgroup", _CGROUP_LIMIT)
    if data is None:
        return None
    found = classify_cgroup(data.decode("utf-8", "replace"))
    if found.kind != SLURM:
        return found
    if found.uid is not None:
        found = replace(found, owner=_user_of_uid(found.uid), via=VIA_JOB_USER)
    environ = _read(f"/proc/{pid}/environ", 256 * 1024)
    return with_env(found, parse_environ(environ)) if environ else found
