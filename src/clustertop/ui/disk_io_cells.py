"""The Disks pane's I/O cells: read and write rates, IOPS and busy share of a mount's device."""

from __future__ import annotations

from clustertop.model import Disk, HostSnapshot
from clustertop.model.network import DiskIo
from clustertop.model.nfs import NfsIo
from clustertop.ui.row_cells import rate_cell
from clustertop.ui.widgets.cells import DIM, Cell, bar_cell, na_cell, number_cell, text_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import number


def device_io(disk: Disk, snap: HostSnapshot) -> DiskIo | NfsIo | None:
    """The I/O of the block device a filesystem sits on (/dev/sda1 -> sda1, /dev/mapper/vg-root
    -> its dm-N), or of an NFS mount (by mount point), when listed."""
    if disk.fstype.startswith("nfs"):
        return next((n for n in snap.nfs_io if n.mount == disk.mount), None)
    name = disk.device.rsplit("/", 1)[-1]
    if not disk.device:
        return None
    return next((d for d in snap.disk_io if name in (d.name, d.mapper)), None)


def disk_io_cells(io: DiskIo | NfsIo | None) -> tuple[Cell, ...]:
    """Read/s, write/s, IOPS and busy cells of the Disks pane (N/A: device not in diskstats;
    an NFS mount has no IOPS or busy share in mountstats' byte counters)."""
    if io is None:
        return (na_cell(), na_cell(), na_cell(), na_cell())
    if isinstance(io, NfsIo):
        return (rate_cell(io.read_rate), rate_cell(io.write_rate), na_cell(), na_cell())
    iops = None if io.read_iops is None or io.write_iops is None else io.read_iops + io.write_iops
    return (
        rate_cell(io.read_rate),
        rate_cell(io.write_rate),
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


def nfs_only_rows(snap: HostSnapshot) -> list[RowData]:
    """Rows for NFS mounts with I/O that df did not list (over SSH df reads local filesystems
    only, since a hung server would hang it): mount, server, type and I/O; no space figures."""
    listed = {disk.mount for disk in snap.disks}
    rows = []
    for nfs in snap.nfs_io:
        if nfs.mount in listed:
            continue
        c = nfs.counters
        disk = Disk(c.mount, c.device, "nfs", 0, 0, 0)
        cells: tuple[Cell, ...] = (text_cell(c.mount), text_cell(c.device), text_cell("nfs"))
        cells += (Cell("-", DIM),) * 5 + disk_io_cells(nfs)
        rows.append(RowData(c.mount, cells, disk))
    return rows
