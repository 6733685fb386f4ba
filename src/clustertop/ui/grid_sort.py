"""What each grid column sorts by, from the snapshot, without making the cells (lazy rows)."""

from __future__ import annotations

from collections.abc import Callable

from clustertop.analysis.issues import section_issues
from clustertop.model import HostSnapshot, HostState
from clustertop.model.network import off_host_rates
from clustertop.ui.columns import GridContext, busy_gpus
from clustertop.ui.widgets.cells import SortKey
from clustertop.util.units import ratio_percent

# Each equals the sort_key of the cell its renderer in columns.py makes, for every snapshot:
# tests/ui/test_grid_sort.py checks it over varied ones (down, connecting, MIG, no GPUs ...).


def _one(value: float | None) -> SortKey:
    return None if value is None else (value,)


def _host(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    return (float(ctx.rank),)


def _state(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    if snap.state is HostState.CONNECTING:
        return (2.0,)
    if not snap.is_up:
        return (3.0,)
    return (1.0 if section_issues(snap) else 0.0,)


def _latency(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    return _one(snap.latency_ms if snap.is_up else None)


def _cpu(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    return _one(snap.cpu.percent if snap.cpu and snap.is_up else None)


def _load(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    return None if snap.load is None or not snap.is_up else (snap.load[0],)


def _memory(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    mem = snap.memory
    return None if mem is None or not snap.is_up else _one(ratio_percent(mem.used, mem.total))


def _gpus(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    if not snap.gpus:
        return None
    units = busy_gpus(snap)
    return (float(sum(1 for _, is_busy in units if not is_busy)), float(len(units)))


def _gpu_memory(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    known = [gpu for gpu in snap.gpus if gpu.memory_total is not None]
    if not known:
        return None
    used = sum(gpu.memory_used or 0 for gpu in known)
    return _one(ratio_percent(used, sum(gpu.memory_total or 0 for gpu in known)))


def _temperature(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    temps = [gpu.temperature_c for gpu in snap.gpus if gpu.temperature_c is not None]
    return (max(temps),) if temps else None


def _disk(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    known = [disk.percent for disk in snap.disks if disk.percent is not None]
    return (max(known) or 0.0,) if known else None


def _containers(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    if not snap.containers:
        return None if snap.docker_error else (0.0, 0.0)
    running = sum(1 for ctr in snap.containers if ctr.state == "running")
    stale = sum(1 for ctr in snap.containers if ctr.id in ctx.stale)
    return (float(running), float(stale))


def _network(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    rx, tx = off_host_rates(snap.interfaces) if snap.is_up else (None, None)
    if rx is None and tx is None:
        return None
    return ((rx or 0.0) + (tx or 0.0),)


SORT_KEYS: tuple[Callable[[HostSnapshot, GridContext], SortKey], ...] = (
    _host,
    _state,
    _latency,
    _cpu,
    _load,
    _memory,
    _gpus,
    _gpu_memory,
    _temperature,
    _disk,
    _containers,
    _network,
)
"""Per grid column (GRID_COLUMNS' order), what its cell sorts by."""
