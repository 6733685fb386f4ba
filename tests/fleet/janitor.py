"""Removing a fleet's folder and every process, mount and container that still uses it."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from tests.fleet import procs

OWNER_FILE = "owner.pid"
_CONTAINER_DIRS = ("data/containers/*", "*/data/containers/*", "*/*/data/containers/*")


def claim(root: Path) -> None:
    """Mark `root` as this process's, so a later run can tell it from a crashed run's."""
    (root / OWNER_FILE).write_text(f"{os.getpid()}\n")


def container_ids_under(root: Path) -> list[str]:
    """Full ids of containers of any engine whose data root lies below `root`."""
    return [p.name for pattern in _CONTAINER_DIRS for p in root.glob(pattern) if len(p.name) == 64]


def remove_root(root: Path) -> list[int]:
    """Kill what still uses `root`, unmount below it, delete it; returns pids that survived."""
    if not root.exists():
        return []
    survivors = procs.kill_pids(procs.pids_mentioning(root))
    survivors += procs.kill_pids(procs.pids_in_cgroups(container_ids_under(root)))
    procs.unmount_under(root)
    shutil.rmtree(root, ignore_errors=True)
    return survivors


def _owner_gone(root: Path) -> bool:
    try:
        pid = int((root / OWNER_FILE).read_text().strip())
    except (OSError, ValueError):
        # No claim yet: only a folder older than a minute is a crashed run's, not one starting now.
        with contextlib.suppress(OSError):
            return time.time() - root.stat().st_mtime > 60
        return False
    return not procs.alive(pid)


def reap_stale(parent: Path, prefix: str) -> list[Path]:
    """Remove folders `parent/prefix*` left by runs that died without cleaning up."""
    reaped = []
    for root in parent.glob(prefix + "*"):
        if root.is_dir() and _owner_gone(root):
            remove_root(root)
            reaped.append(root)
    return reaped
