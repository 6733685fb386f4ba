"""Host screen panes: keyed rows for GPUs, GPU processes, containers, processes and disks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clustertop.analysis.mig import UnitKey
from clustertop.model import Container, ContainerRef, Disk, Gpu, GpuProcess, HostSnapshot, Process
from clustertop.model.attribution import NONE, SLURM, Attribution
from clustertop.ui.disk_io_cells import (
    DISK_IO_COLUMNS,
    device_io,
    disk_io_cells,
    nfs_only_rows,
)
from clustertop.ui.engine_cells import engine_cell
from clustertop.ui.mig_rows import instance_rows, process_gpu_cell
from clustertop.ui.row_cells import bytes_cell, dash_or
from clustertop.ui.vendor import gpu_name, process_gpu
from clustertop.ui.widgets.cells import (
    BAD,
    DIM,
    OK,
    WARN,
    Cell,
    bar_cell,
    joined,
    na_cell,
    number_cell,
    severity,
    text_cell,
)
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import NA, duration, human_bytes, number, ratio_percent, used_of


@dataclass(frozen=True, slots=True)
class PaneContext:
    """What pane rows need besides the snapshot."""

    now: float
    """Current time, for running times."""
    stale: frozenset[str] = frozenset()
    """Stale container IDs of this host."""
    mig_stale: frozenset[UnitKey] = frozenset()
    """(GPU index, GI, CI) of this host's stale MIG instances."""
    stale_jobs: frozenset[str] = frozenset()
    """Stale Slurm job ids of this host."""


@dataclass(frozen=True, slots=True)
class Pane:
    """One pane of the host screen."""

    id: str
    """Widget id suffix and binding id part (our own constant)."""
    title: str
    """Tab title."""
    columns: tuple[ColumnSpec, ...]
    """Table columns."""
    rows: Callable[[HostSnapshot, PaneContext], list[RowData]]
    """Builds the pane's rows from a snapshot."""
    cpu_column: str | None = None
    """Column `c` sorts by."""
    memory_column: str | None = None
    """Column `m` sorts by."""
    initial_sort: str | None = None
    """Column the pane is first sorted by (None: the first column)."""


def _container_name(ref: ContainerRef | None) -> Cell:
    return text_cell(ref.name or ref.id[:12]) if ref else Cell("-", DIM)


def _belongs_to(ref: ContainerRef | None, found: Attribution | None) -> Cell:
    """The attribution column: kind and name (job id and name, pod, container, session)."""
    if found is None:  # cgroup not read (demo, older probe): the Docker container as before
        return _container_name(ref)
    if found.kind == NONE:
        return Cell("-", DIM)
    if found.kind == SLURM:
        return text_cell(f"slurm {found.id} {found.name or ''}".rstrip())
    label = found.name or (ref.name if ref else "") or found.id[:12]
    return text_cell(f"{found.kind} {label}")


belongs_to_cell = _belongs_to
"""The attribution column's cell, for other panes (the Ports pane's holders)."""


def _running(start: float | None, now: float) -> Cell:
    if start is None:
        return na_cell()
    return number_cell(duration(now - start), now - start)


def _gpu_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    rows = []
    for gpu in snap.gpus:
        cells = _gpu_cells(gpu, snap)
        rows.append(RowData(gpu.uuid or f"gpu{gpu.index}", cells, gpu))
        if gpu.mig_instances or gpu.mig_error:
            rows.extend(instance_rows(gpu, snap, cells, ctx.mig_stale))
    return rows


def _gpu_cells(gpu: Gpu, snap: HostSnapshot) -> tuple[Cell, ...]:
    users = sorted(
        {proc.owner or proc.user or "?" for proc in snap.gpu_processes if proc.gpu_uuid == gpu.uuid}
    )
    mem_share = ratio_percent(gpu.memory_used, gpu.memory_total)
    power = f"{number(gpu.power_w, 0)}/{number(gpu.power_limit_w, 0, 'W')}"
    ecc = gpu.ecc_uncorrected
    return (
        number_cell(str(gpu.index), float(gpu.index)),
        text_cell(gpu.error or gpu_name(gpu, snap), BAD if gpu.error else ""),
        bar_cell(gpu.util_percent, 10, 101, 101),
        number_cell(
            used_of(gpu.memory_used, gpu.memory_total), mem_share, severity(mem_share, 90, 98)
        ),
        number_cell(
            number(gpu.temperature_c, 0, "°C"),
            gpu.temperature_c,
            severity(gpu.temperature_c, 75, 85),
        ),
        number_cell(power, gpu.power_w),
        number_cell(number(gpu.fan_percent, 0, "%"), gpu.fan_percent),
        number_cell(
            NA if ecc is None else str(ecc), None if ecc is None else float(ecc), BAD if ecc else ""
        ),
        dash_or(joined(users)),
    )


GPU_COLUMNS = (
    ColumnSpec("idx", "#", 3, descending=False),
    ColumnSpec("name", "Name", 24, descending=False),
    ColumnSpec("util", "Util", 15),
    ColumnSpec("mem", "Memory", 15),
    ColumnSpec("temp", "Temp", 5),
    ColumnSpec("power", "Power", 9),
    ColumnSpec("fan", "Fan", 4),
    ColumnSpec("ecc", "ECC", 4),
    ColumnSpec("users", "Users", None, descending=False),
)


def _gpu_process_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [
        RowData(
            f"{proc.pid}:{proc.start_time}:{proc.gpu_uuid}",
            _gpu_process_cells(proc, ctx, snap),
            proc,
        )
        for proc in snap.gpu_processes
    ]


def _via(found: Attribution | None) -> Cell:
    """Which rule chose the owner (label, name, job-user, ...)."""
    return dash_or(found.via if found is not None else None)


def _gpu_process_cells(proc: GpuProcess, ctx: PaneContext, snap: HostSnapshot) -> tuple[Cell, ...]:
    return (
        number_cell(str(proc.pid), float(proc.pid)),
        text_cell(proc.user or NA, "" if proc.user else DIM),
        text_cell(proc.owner or NA, "" if proc.owner else DIM),
        _via(proc.attribution),
        _belongs_to(proc.container, proc.attribution),
        process_gpu_cell(proc, snap, process_gpu(proc, snap)),
        bytes_cell(proc.memory_used),
        number_cell(number(proc.cpu_percent, 0, "%"), proc.cpu_percent),
        _running(proc.start_time, ctx.now),
        text_cell(proc.command or NA),
    )


GPU_PROCESS_COLUMNS = (
    ColumnSpec("pid", "PID", 8, descending=False),
    ColumnSpec("user", "User", 10, descending=False),
    ColumnSpec("owner", "Owner", 10, descending=False),
    ColumnSpec("via", "Via", 9, descending=False),
    ColumnSpec("container", "Belongs to", 20, descending=False),
    ColumnSpec("gpu", "GPU", 3, descending=False),
    ColumnSpec("gpumem", "GPU mem", 10),
    ColumnSpec("cpu", "CPU", 5),
    ColumnSpec("time", "Time", 7),
    ColumnSpec("command", "Command", None, descending=False, flex=True),
)


def _container_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [RowData(ctr.id, _container_cells(ctr, ctx), ctr) for ctr in snap.containers]


def _container_cells(ctr: Container, ctx: PaneContext) -> tuple[Cell, ...]:
    running = ctr.state == "running"
    stale = ctr.id in ctx.stale
    log = ctr.log_size
    return (
        text_cell(ctr.name, "bold" if running else DIM),
        engine_cell(ctr),
        text_cell(ctr.image),
        text_cell(ctr.state, OK if running else DIM),
        text_cell(ctr.status, sort_key=(ctr.started_at or ctr.finished_at or 0.0,)),
        number_cell(number(ctr.cpu_percent, 0, "%"), ctr.cpu_percent),
        bytes_cell(ctr.memory_used),
        text_cell(
            joined([str(index) for index in ctr.gpus]) or "-", sort_key=(float(len(ctr.gpus)),)
        ),
        bytes_cell(ctr.gpu_memory_used),
        text_cell(ctr.owner or NA, "" if ctr.owner else DIM),
        Cell("stale", WARN, (1.0,)) if stale else Cell("", sort_key=(0.0,)),
        number_cell(
            human_bytes(log), None if log is None else float(log), severity(log, 1 << 30, 5 << 30)
        ),
    )


CONTAINER_COLUMNS = (
    ColumnSpec("name", "Name", 20, descending=False),
    ColumnSpec("engine", "Engine", 7, descending=False),
    ColumnSpec("image", "Image", 22, descending=False),
    ColumnSpec("state", "State", 8, descending=False),
    ColumnSpec("status", "Status", 20),
    ColumnSpec("cpu", "CPU", 5),
    ColumnSpec("mem", "Mem", 10),
    ColumnSpec("gpus", "GPUs", 7),
    ColumnSpec("gpumem", "GPU mem", 10),
    ColumnSpec("owner", "Owner", 10, descending=False),
    ColumnSpec("stale", "Stale", 5),
    ColumnSpec("log", "Log", 10),
)


def _process_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [
        RowData(f"{proc.pid}:{proc.start_time}", _process_cells(proc, ctx), proc)
        for proc in snap.processes
    ]


def _process_cells(proc: Process, ctx: PaneContext) -> tuple[Cell, ...]:
    return (
        number_cell(str(proc.pid), float(proc.pid)),
        text_cell(proc.user or NA, "" if proc.user else DIM),
        number_cell(
            number(proc.cpu_percent, 1), proc.cpu_percent, severity(proc.cpu_percent, 90, 400)
        ),
        number_cell(
            number(proc.memory_percent, 1),
            proc.memory_percent,
            severity(proc.memory_percent, 25, 50),
        ),
        bytes_cell(proc.memory_rss),
        _running(proc.start_time, ctx.now),
        _belongs_to(proc.container, proc.attribution),
        text_cell(proc.command),
    )


PROCESS_COLUMNS = (
    ColumnSpec("pid", "PID", 8, descending=False),
    ColumnSpec("user", "User", 10, descending=False),
    ColumnSpec("cpu", "CPU%", 6),
    ColumnSpec("mem", "MEM%", 5),
    ColumnSpec("rss", "RSS", 10),
    ColumnSpec("time", "Time", 7),
    ColumnSpec("container", "Belongs to", 20, descending=False),
    ColumnSpec("command", "Command", None, descending=False, flex=True),
)


def _disk_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [
        RowData(disk.mount, _disk_cells(disk) + disk_io_cells(device_io(disk, snap)), disk)
        for disk in snap.disks
    ] + nfs_only_rows(snap)


def _disk_cells(disk: Disk) -> tuple[Cell, ...]:
    inodes = ratio_percent(disk.inodes_used, disk.inodes_total)
    return (
        text_cell(disk.mount),
        text_cell(disk.device),
        text_cell(disk.fstype),
        bytes_cell(disk.total),
        bytes_cell(disk.used),
        bytes_cell(disk.available),
        bar_cell(disk.percent, 10, 80, 90),
        number_cell(number(inodes, 0, "%"), inodes, severity(inodes, 80, 90)),
    )


DISK_COLUMNS = (
    ColumnSpec("mount", "Mount", 24, descending=False),
    ColumnSpec("device", "Device", 24, descending=False),
    ColumnSpec("type", "Type", 8, descending=False, drop=2),
    ColumnSpec("size", "Size", 10),
    ColumnSpec("used", "Used", 10),
    ColumnSpec("avail", "Avail", 10),
    ColumnSpec("use", "Use", 15),
    ColumnSpec("inodes", "Inodes", 6, drop=1),
    *DISK_IO_COLUMNS,
)


PANES = (
    Pane("gpus", "GPUs", GPU_COLUMNS, _gpu_rows),
    Pane(
        "gpu-processes",
        "GPU processes",
        GPU_PROCESS_COLUMNS,
        _gpu_process_rows,
        "cpu",
        "gpumem",
        initial_sort="gpumem",
    ),
    Pane("containers", "Containers", CONTAINER_COLUMNS, _container_rows, "cpu", "mem"),
    Pane("processes", "Processes", PROCESS_COLUMNS, _process_rows, "cpu", "mem", "cpu"),
    Pane("disks", "Disks", DISK_COLUMNS, _disk_rows),
)
"""Panes in key order: `1` is the first."""
