"""Local device-mapper names (/sys/block/dm-N/dm/name) and NFS mounts' I/O (mountstats)."""

from __future__ import annotations

import dataclasses
import time

from clustertop.model.network import DiskIo
from clustertop.model.nfs import NfsCounters, NfsIo
from clustertop.parsers.mountstats import nfs_rates, parse_mountstats


def _first_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.readline().strip() or None
    except OSError:
        return None


def with_mapper_names(
    devices: tuple[DiskIo, ...], sys_block: str = "/sys/block"
) -> tuple[DiskIo, ...]:
    """dm-N devices with their /dev/mapper name, where sysfs gives one."""
    return tuple(
        dataclasses.replace(d, mapper=_first_line(f"{sys_block}/{d.name}/dm/name"))
        if d.name.startswith("dm-")
        else d
        for d in devices
    )


class NfsReader:
    """Reads /proc/self/mountstats each tick; rates between calls, per mount."""

    def __init__(self, path: str = "/proc/self/mountstats") -> None:
        self._path = path
        self._last: tuple[float, tuple[NfsCounters, ...]] | None = None

    def read(self) -> tuple[tuple[NfsIo, ...], str | None]:
        """NFS mounts with rates, and why mountstats could not be read (None: it could)."""
        try:
            with open(self._path, encoding="utf-8", errors="replace") as file:
                counters = parse_mountstats(file.read())
        except (OSError, ValueError) as exc:
            return (), f"cannot read {self._path}: {exc}"
        sample = (time.monotonic(), counters)
        rows = nfs_rates(self._last, sample)
        self._last = sample
        return rows, None
