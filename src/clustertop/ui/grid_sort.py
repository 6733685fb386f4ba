"""What each grid column sorts by, from the snapshot alone: its cell (columns.py) is made from
the same functions, and lazy rows sort without making cells."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from clustertop.analysis.free_gpus import DEFAULT_MEMORY_MIB, DEFAULT_UTIL_PERCENT
from clustertop.analysis.issues import section_issues
from clustertop.analysis.mig import GpuUnit, UnitState, host_unit_states
from clustertop.model import Disk, HostSnapshot, HostState, Memory
from clustertop.model.network import off_host_rates
from clustertop.ui.widgets.cells import SortKey
from clustertop.util.units import ratio_percent


@dataclass(frozen=True, slots=True)
class GridContext:
    """What a grid row needs besides its snapshot."""

    now: float
    """Current time (from the app's clock)."""
    interval: float
    """Refresh interval: data older than two of these shows its age."""
    stale: frozenset[str] = frozenset()
    """Stale container IDs of this host."""
    rank: int = 0
    """Position of the host in the source's list: the Host column sorts in the user's order."""


SortKeyOf = Callable[[HostSnapshot, GridContext], SortKey]
"""A column's sort rule: what a host's cell in it sorts by."""

_BUSY: dict[str, tuple[object, object, list[tuple[GpuUnit, bool]]]] = {}
"""Each host's last answer, by the GPU and process tuples it was worked out from: the grid's
row and the summary ask for every host each repaint (5,000 hosts: most unchanged)."""


def busy_gpus(snap: HostSnapshot) -> list[tuple[GpuUnit, bool]]:
    """Per GPU, or per MIG instance of a partitioned GPU: busy unless free by the analysis rule
    (no process, <= 5 %, <= 500 MiB, known)."""
    known = _BUSY.get(snap.name)
    if known is not None and known[0] is snap.gpus and known[1] is snap.gpu_processes:
        return known[2]
    states = host_unit_states(
        snap, memory_mib=DEFAULT_MEMORY_MIB, util_percent=DEFAULT_UTIL_PERCENT
    )
    found = [(unit, state is not UnitState.FREE) for unit, state in states]
    if snap.gpus:  # the same object only while the snapshot's parts are alive: kept with them
        _BUSY[snap.name] = (snap.gpus, snap.gpu_processes, found)
    return found


def free_units(units: Sequence[tuple[GpuUnit, bool]]) -> int:
    """How many of busy_gpus' units are free."""
    return sum(1 for _, is_busy in units if not is_busy)


# The values a cell shows and sorts by (None: unknown, sorts last; number_cell makes (value,)).


def value_key(value: float | None) -> SortKey:
    """The key of a cell that sorts by the one value it shows."""
    return None if value is None else (value,)


def latency_of(snap: HostSnapshot) -> float | None:
    """Round trip in ms of a host that is up."""
    return snap.latency_ms if snap.is_up else None


def cpu_of(snap: HostSnapshot) -> float | None:
    """CPU use in % of a host that is up."""
    return snap.cpu.percent if snap.cpu and snap.is_up else None


def load_of(snap: HostSnapshot) -> float | None:
    """1-minute load of a host that is up."""
    return None if snap.load is None or not snap.is_up else snap.load[0]


def memory_of(snap: HostSnapshot) -> tuple[Memory, float | None] | None:
    """The memory reading of a host that is up, and the share of it in use (%)."""
    mem = snap.memory
    return None if mem is None or not snap.is_up else (mem, ratio_percent(mem.used, mem.total))


def gpu_memory_of(snap: HostSnapshot) -> tuple[int, int, float | None] | None:
    """Bytes used and total over the GPUs whose total is known, and the share in use (%)."""
    known = [gpu for gpu in snap.gpus if gpu.memory_total is not None]
    if not known:
        return None
    used = sum(gpu.memory_used or 0 for gpu in known)
    total = sum(gpu.memory_total or 0 for gpu in known)
    return used, total, ratio_percent(used, total)


def hottest_of(snap: HostSnapshot) -> float | None:
    """The hottest GPU's temperature (°C)."""
    temps = [gpu.temperature_c for gpu in snap.gpus if gpu.temperature_c is not None]
    return max(temps) if temps else None


def fullest_disk(snap: HostSnapshot) -> tuple[float, Disk] | None:
    """The fullest filesystem's use (%) and the filesystem (the first of equals)."""
    known = [(disk.percent, disk) for disk in snap.disks if disk.percent is not None]
    return max(known, key=_first) if known else None


def _first(pair: tuple[float, Disk]) -> float:
    return pair[0]


def running_containers(snap: HostSnapshot) -> int:
    """How many of a host's containers run."""
    return sum(1 for ctr in snap.containers if ctr.state == "running")


def container_counts(snap: HostSnapshot, ctx: GridContext) -> tuple[int, int]:
    """Running containers, and containers that are stale."""
    return running_containers(snap), sum(1 for ctr in snap.containers if ctr.id in ctx.stale)


def network_of(snap: HostSnapshot) -> tuple[float | None, float | None, float] | None:
    """Off-host receive and send rates (bytes/s) of a host that is up, and their sum."""
    rx, tx = off_host_rates(snap.interfaces) if snap.is_up else (None, None)
    return None if rx is None and tx is None else (rx, tx, (rx or 0.0) + (tx or 0.0))


# The sort rule of each column: the cell's sort_key, whose renderer calls it or the value above.


def host_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """The user's order of the hosts."""
    return (float(ctx.rank),)


def state_key(snap: HostSnapshot, ctx: GridContext, issues: Sequence[str] | None = None) -> SortKey:
    """Up, up with issues, connecting, down; `issues`: section_issues when the caller has them."""
    if snap.state is HostState.CONNECTING:
        return (2.0,)
    if not snap.is_up:
        return (3.0,)
    return (1.0 if (section_issues(snap) if issues is None else issues) else 0.0,)


def latency_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By round trip."""
    return value_key(latency_of(snap))


def cpu_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By CPU use."""
    return value_key(cpu_of(snap))


def load_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By 1-minute load."""
    return value_key(load_of(snap))


def memory_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By share of memory in use."""
    found = memory_of(snap)
    return None if found is None else value_key(found[1])


def gpus_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By free GPU units, then by units (None: no GPU)."""
    if not snap.gpus:
        return None
    units = busy_gpus(snap)
    return (float(free_units(units)), float(len(units)))


def gpu_memory_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By share of GPU memory in use."""
    found = gpu_memory_of(snap)
    return None if found is None else value_key(found[2])


def temperature_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By the hottest GPU."""
    return value_key(hottest_of(snap))


def disk_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By the fullest filesystem."""
    found = fullest_disk(snap)
    return None if found is None else (found[0],)


def containers_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By running, then stale containers (none: 0, 0; unreadable: None)."""
    if not snap.containers:
        return None if snap.docker_error else (0.0, 0.0)
    running, stale = container_counts(snap, ctx)
    return (float(running), float(stale))


def network_key(snap: HostSnapshot, ctx: GridContext) -> SortKey:
    """By off-host traffic, both ways."""
    found = network_of(snap)
    return None if found is None else (found[2],)


SORT_KEYS: tuple[SortKeyOf, ...] = (
    host_key,
    state_key,
    latency_key,
    cpu_key,
    load_key,
    memory_key,
    gpus_key,
    gpu_memory_key,
    temperature_key,
    disk_key,
    containers_key,
    network_key,
)
"""Per grid column (GRID_COLUMNS' order), what its cell sorts by; columns.py takes its
renderers in this order, each beside its key."""
