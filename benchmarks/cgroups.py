"""CPU accounting groups (cgroup v1 cpuacct): one per simulated host, one for the stand-ins."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

CPUACCT = Path("/sys/fs/cgroup/cpuacct")
"""Where the cgroup v1 cpuacct hierarchy is mounted (Debian 12 on this machine kind)."""


def available() -> bool:
    """True when a cpuacct v1 hierarchy is mounted and writable (root)."""
    return (CPUACCT / "cpuacct.usage").is_file() and os.access(CPUACCT, os.W_OK)


class CpuGroup:
    """One cpuacct group: processes moved into it (and their children) are charged to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        """The group's folder."""

    @property
    def procs_file(self) -> Path:
        """Writing a PID here moves that process into the group."""
        return self.path / "cgroup.procs"

    def create(self) -> CpuGroup:
        """Make the folder (the kernel fills in its files)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return self

    def usage_ns(self) -> int:
        """CPU nanoseconds charged so far to the group and its sub-groups (0 once removed)."""
        try:
            return int((self.path / "cpuacct.usage").read_text())
        except (OSError, ValueError):
            return 0

    def add(self, pid: int) -> None:
        """Move process `pid` into the group."""
        self.procs_file.write_text(f"{pid}\n")

    def pids(self) -> list[int]:
        """Processes in the group itself (not its sub-groups)."""
        try:
            return [int(p) for p in self.procs_file.read_text().split()]
        except (OSError, ValueError):
            return []

    def remove(self, timeout: float = 5.0) -> None:
        """Delete the group and its sub-groups, once their processes are gone (bounded wait)."""
        if not self.path.is_dir():
            return
        for child in sorted(self.path.iterdir(), reverse=True):
            if child.is_dir():
                CpuGroup(child).remove(timeout)
        deadline = time.monotonic() + timeout
        while self.path.is_dir():
            with contextlib.suppress(OSError):
                self.path.rmdir()
                return
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)
