"""Local filesystems with sizes and inodes; each statvfs is bounded so a hung mount can't block."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psutil

from clustertop.model import Disk
from clustertop.parsers.df import is_pseudo_filesystem

StatVfs = Callable[[str], os.statvfs_result]
"""The statvfs call (a seam for the hung-mount test: nothing here can hang a real mount)."""

STAT_TIMEOUT = 1.0
"""Seconds one tick waits for all statvfs calls together."""


@dataclass(frozen=True, slots=True)
class DiskReading:
    """The disks section of one local snapshot."""

    disks: tuple[Disk, ...] = ()
    """Real filesystems that answered."""
    error: str | None = None
    """Mounts that timed out or failed, or why mounts could not be listed."""


@dataclass(frozen=True, slots=True)
class Mount:
    """One mounted filesystem worth a row."""

    mount: str
    """Mount point."""
    device: str
    """Device or source."""
    fstype: str
    """Filesystem type."""


class _StatCall:
    """One statvfs running in its own daemon thread: a hung one is abandoned, never joined."""

    def __init__(self, statvfs: StatVfs, mount: str) -> None:
        self.done = threading.Event()
        self.result: os.statvfs_result | None = None
        self.error: OSError | None = None
        self._statvfs = statvfs
        self._mount = mount
        threading.Thread(target=self._run, name=f"statvfs {mount!r}", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = self._statvfs(self._mount)
        except OSError as exc:
            self.error = exc
        finally:
            self.done.set()


def real_mounts() -> list[Mount]:
    """Mounted real filesystems, one row per device (the shortest mount point, as df shows)."""
    # all=True: psutil's all=False drops every "nodev" type in /proc/filesystems, NFS and CIFS
    # included, and those are exactly the mounts people watch (and the ones that hang).
    by_device: dict[str, Mount] = {}
    for part in psutil.disk_partitions(all=True):
        if is_pseudo_filesystem(part.device, part.fstype, part.mountpoint):
            continue
        known = by_device.get(part.device)
        if known is None or len(part.mountpoint) < len(known.mount):
            by_device[part.device] = Mount(part.mountpoint, part.device, part.fstype)
    return sorted(by_device.values(), key=lambda m: m.mount)


def disk_from_statvfs(mount: Mount, st: os.statvfs_result) -> Disk:
    """A Disk in bytes, counted as df counts (used = blocks - free; available = bavail)."""
    inodes_total = st.f_files or None
    return Disk(
        mount=mount.mount,
        device=mount.device,
        fstype=mount.fstype,
        total=st.f_blocks * st.f_frsize,
        used=(st.f_blocks - st.f_bfree) * st.f_frsize,
        available=st.f_bavail * st.f_frsize,
        inodes_total=inodes_total,
        inodes_used=st.f_files - st.f_ffree if inodes_total is not None else None,
    )


class DiskReader:
    """Reads every real filesystem, skipping mounts whose previous statvfs has not returned."""

    def __init__(self, statvfs: StatVfs | None = None, timeout: float = STAT_TIMEOUT) -> None:
        self._statvfs = statvfs or os.statvfs
        self._timeout = timeout
        self._hung: dict[str, _StatCall] = {}

    def read(self, mounts: Sequence[Mount] | None = None) -> DiskReading:
        """One reading within about `timeout` seconds, whatever the mounts do."""
        try:
            mounts = real_mounts() if mounts is None else mounts
        except OSError as exc:
            return DiskReading((), f"cannot list mounts: {exc}")
        calls: dict[Mount, _StatCall] = {}
        hung: list[str] = []
        for mount in mounts:
            previous = self._hung.get(mount.mount)
            if previous is not None and not previous.done.is_set():
                hung.append(mount.mount)
                continue
            self._hung.pop(mount.mount, None)
            calls[mount] = _StatCall(self._statvfs, mount.mount)
        return self._collect(calls, hung)

    def _collect(self, calls: dict[Mount, _StatCall], hung: list[str]) -> DiskReading:
        deadline = time.monotonic() + self._timeout
        disks: list[Disk] = []
        failed: list[str] = []
        for mount, call in calls.items():
            if not call.done.wait(max(0.0, deadline - time.monotonic())):
                self._hung[mount.mount] = call
                hung.append(mount.mount)
            elif call.error is not None:
                failed.append(f"{mount.mount}: {call.error.strerror or call.error}")
            elif call.result is not None and call.result.f_blocks > 0:
                disks.append(disk_from_statvfs(mount, call.result))
        errors = [f"statvfs timed out (hung mount?): {', '.join(sorted(hung))}"] if hung else []
        return DiskReading(tuple(disks), "; ".join(errors + failed) or None)
