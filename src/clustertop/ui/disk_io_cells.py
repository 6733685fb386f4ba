"""The Disks pane's I/O cells: read and write rates, IOPS and busy share of a mount's device."""

from __future__ import annotations

from clustertop.model import Disk, HostSnapshot
from clustertop.model.network import DiskIo
from clustertop.ui.widgets.cells import Cell, bar_cell, na_cell, number_cell
from clustertop.ui.widgets.table_sync import ColumnSpec
from clustertop.util.units import number, rate


def _rate(value: float | None) -> Cell:
    return number_cell(rate(value), value)


def device_io(disk: Disk, snap: HostSnapshot) -> DiskIo | None:
    """The I/O of the block device a filesystem sits on (/dev/sda1 -> sda1), when listed."""
    name = disk.device.rsplit("/", 1)[-1]
    return next((d for d in snap.disk_io if d.name == name), None) if disk.device else None


def disk_io_cells(io: DiskIo | None) -> tuple[Cell, ...]:
    """Read/s, write/s, IOPS and busy cells of the Disks pane (N/A: device not in diskstats)."""
    if io is None:
        return (na_cell(), na_cell(), na_cell(), na_cell())
    iops = None if io.read_iops is None or io.write_iops is None else io.read_iops + io.write_iops
    return (
        _rate(io.read_rate),
        _rate(io.write_rate),
        number_cell(number(iops, 0), iops),
        bar_cell(io.busy_percent, 6, 80, 95),
    )


DISK_IO_COLUMNS = (
    ColumnSpec("read", "Read", 12),
    ColumnSpec("write", "Write", 12),
    ColumnSpec("iops", "IOPS", 6),
    ColumnSpec("busy", "Busy", 11),
)
"""Columns the Disks pane adds after its space columns."""
