"""What a local PID belongs to: its cgroup, read once, and a Slurm job's environment."""

from __future__ import annotations

import pwd
from dataclasses import replace

from clustertop.model.attribution import NONE, PODMAN, SLURM, VIA_JOB_USER, Attribution
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.parsers.podman import conmon_container
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
    if found.kind == NONE:
        return rootless_podman(pid) or found
    if found.kind != SLURM:
        return found
    if found.uid is not None:
        found = replace(found, owner=_user_of_uid(found.uid), via=VIA_JOB_USER)
    environ = _read(f"/proc/{pid}/environ", 256 * 1024)
    return with_env(found, parse_environ(environ)) if environ else found


def _ppid_uid(pid: int) -> tuple[int, int] | None:
    data = _read(f"/proc/{pid}/status", 8192)
    fields = {}
    for line in (data or b"").decode("ascii", "replace").splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    try:
        return int(fields["PPid"][0]), int(fields["Uid"][0])
    except (KeyError, IndexError, ValueError):
        return None


def _in_user_namespace(pid: int) -> bool:
    # The initial namespace maps every uid to itself: "0 0 4294967295".
    rows = (_read(f"/proc/{pid}/uid_map", 4096) or b"").split()
    return len(rows) >= 3 and rows[:3] != [b"0", b"0", b"4294967295"]


def rootless_podman(pid: int, depth: int = 4) -> Attribution | None:
    """A rootless podman container on cgroup v1 (no container cgroup): its conmon ancestor.

    Only when the process is in a user namespace and conmon runs as the same Unix user: a
    process merely named `conmon` by someone else cannot claim another user's container.
    """
    mine = _ppid_uid(pid)
    if mine is None or not _in_user_namespace(pid):
        return None
    parent = mine[0]
    for _ in range(depth):
        if parent <= 1:
            return None
        argv = (_read(f"/proc/{parent}/cmdline", 64 * 1024) or b"").split(b"\0")
        found = conmon_container([a.decode("utf-8", "replace") for a in argv if a])
        up = _ppid_uid(parent)
        if found is not None:
            same_user = up is not None and up[1] == mine[1]
            return Attribution(PODMAN, found[0], name=found[1] or None) if same_user else None
        if up is None:
            return None
        parent = up[0]
    return None
