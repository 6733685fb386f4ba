"""The GPU pane's MIG rows: each instance indented under its GPU, sorting with it."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from clustertop.analysis.mig import GpuUnit, UnitKey, gpu_of, instance_of
from clustertop.model import Gpu, GpuProcess, HostSnapshot
from clustertop.model.mig import MigInstance
from clustertop.ui.row_cells import dash_or
from clustertop.ui.widgets.cells import (
    BAD,
    DIM,
    WARN,
    Cell,
    bar_cell,
    joined,
    number_cell,
    severity,
    text_cell,
)
from clustertop.ui.widgets.table_sync import RowData
from clustertop.util.units import NA, ratio_percent, used_of


def _users(gpu: Gpu, instance: MigInstance, snap: HostSnapshot) -> Cell:
    users = sorted(
        {
            proc.owner or proc.user or "?"
            for proc in snap.gpu_processes
            if proc.gpu_uuid == gpu.uuid and instance.runs(proc.mig)
        }
    )
    return dash_or(joined(users))


def _name(instance: MigInstance, stale: bool) -> Cell:
    # Indented under the GPU's name; the error, when there is one, says what is missing.
    cell = Cell().add("  └ ", DIM)
    cell.add(text_cell(instance.label))
    if stale:
        cell.add(" stale", WARN)  # holds memory, its own utilisation idle for the stale period
    if instance.error:
        cell.add(" ").add(text_cell(instance.error, BAD))
    return cell


def _util(instance: MigInstance) -> Cell:
    # nvidia-smi and NVML report no utilisation per instance: say so rather than "n/a", so
    # nobody reads an empty cell as idle (dcgm-exporter's profiling field gives it).
    if instance.util_percent is None:
        return Cell("unknown", DIM)
    return bar_cell(instance.util_percent, 10, 101, 101)


def _cells(
    gpu: Gpu, instance: MigInstance, snap: HostSnapshot, parent: Sequence[Cell], stale: bool
) -> list[Cell]:
    share = ratio_percent(instance.memory_used, instance.memory_total)
    dev = instance.device_index
    cells = [
        Cell(f"{gpu.index}:{NA if dev is None else dev}", DIM),
        _name(instance, stale),
        _util(instance),
        number_cell(
            used_of(instance.memory_used, instance.memory_total), share, severity(share, 90, 98)
        ),
        *(Cell("", DIM) for _ in parent[4:-1]),
        _users(gpu, instance, snap),
    ]
    # Every column sorts an instance as its GPU, and the first column (the tie-break, always
    # ascending) puts it after the GPU in device order: instances stay under their GPU.
    for cell, above in zip(cells, parent, strict=True):
        cell.sort_key = above.sort_key
    first = parent[0].sort_key or (float(gpu.index),)
    cells[0].sort_key = (*first, float(dev if dev is not None else 1 << 30))
    return cells


def _error_row(gpu: Gpu, parent: Sequence[Cell]) -> RowData:
    cells = [Cell("", DIM, parent[0].sort_key)]
    cells.append(
        Cell(sort_key=parent[1].sort_key).add("  └ ", DIM).add(text_cell(gpu.mig_error, BAD))
    )
    cells.extend(Cell("", DIM, above.sort_key) for above in parent[2:])
    first = parent[0].sort_key or (float(gpu.index),)
    cells[0].sort_key = (*first, -0.5)
    return RowData(f"{gpu.uuid or gpu.index}/mig-error", tuple(cells), gpu)


def _row_key(gpu: Gpu, instance: MigInstance) -> str:
    if instance.uuid:
        return instance.uuid
    if instance.device_index is not None:
        return f"{gpu.uuid or gpu.index}/mig{instance.device_index}"
    ids = f"{instance.gpu_instance_id}/{instance.compute_instance_id}"
    return f"{gpu.uuid or gpu.index}/gi{ids}"  # dcgm-exporter: no MIG device index


def instance_rows(
    gpu: Gpu, snap: HostSnapshot, parent: Sequence[Cell], stale: Collection[UnitKey] = ()
) -> list[RowData]:
    """One row per MIG instance of `gpu` (and one saying why they could not be read);
    `parent` are the GPU row's cells, `stale` the keys of the host's stale instances."""
    error = [_error_row(gpu, parent)] if gpu.mig_error else []
    return error + [
        RowData(
            _row_key(gpu, instance),
            tuple(_cells(gpu, instance, snap, parent, GpuUnit(gpu, instance).key in stale)),
            gpu,
        )
        for instance in gpu.mig_instances
    ]


def process_gpu_cell(proc: GpuProcess, snap: HostSnapshot, label: str | None = None) -> Cell:
    """The GPU a process runs on: `2`, or `2:1` (nvidia-smi's GPU:MIG device) on an instance;
    `label` stands for the GPU's index (a vendor-led `N2` on a host mixing vendors)."""
    index = label if label is not None else str(proc.gpu_index)
    gpu = gpu_of(proc, snap.gpus) if proc.mig is not None else None
    instance = instance_of(proc, gpu) if gpu is not None else None
    if instance is None or instance.device_index is None:
        return number_cell(index, float(proc.gpu_index))
    dev = instance.device_index
    return Cell(f"{index}:{dev}", sort_key=(float(proc.gpu_index), float(dev)))
