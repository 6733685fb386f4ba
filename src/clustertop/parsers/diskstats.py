"""Parser for /proc/diskstats: cumulative I/O counters per block device."""

from __future__ import annotations

from clustertop.model.network import DiskCounters

SECTOR = 512
"""Bytes in a /proc/diskstats sector (always 512, whatever the device's own sector size)."""


def _disk_line(line: str) -> DiskCounters | None:
    fields = line.split()
    if len(fields) < 14:
        return None
    name = fields[2]
    numbers = fields[3:14]
    if not all(word.isdigit() for word in numbers):
        raise ValueError(f"/proc/diskstats {name}: not a counter line: {line.strip()[:80]!r}")
    values = [int(word) for word in numbers]
    return DiskCounters(
        name=name,
        reads=values[0],
        read_sectors=values[2],
        writes=values[4],
        write_sectors=values[6],
        busy_ms=values[9],
    )


def parse_diskstats(text: str) -> tuple[DiskCounters, ...]:
    """Every block device that has done any I/O since boot (idle loop and ram devices are left
    out); ValueError on a line whose counters are not numbers."""
    found = (_disk_line(line) for line in text.splitlines())
    return tuple(
        disk for disk in found if disk is not None and (disk.reads or disk.writes or disk.busy_ms)
    )
