"""The host grid's columns: one row of cells per HostSnapshot, plus the cluster summary line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from operator import attrgetter

from rich.text import Text

from clustertop.analysis.issues import section_issues
from clustertop.model import HostSnapshot, HostState, Section
from clustertop.ui import grid_sort as keys
from clustertop.ui.grid_sort import GridContext, busy_gpus
from clustertop.ui.widgets.cells import (
    BAD,
    DIM,
    OK,
    WARN,
    Cell,
    level_char,
    na_cell,
    number_cell,
    severity,
)
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.textsafe import literal
from clustertop.util.units import duration, percent, short_bytes, used_of

__all__ = [
    "GRID_COLUMNS", "MIG_CHARS", "GridContext", "busy_gpus", "host_row", "next_row",
    "summary_line", "with_state",
]  # fmt: skip
"""GridContext and busy_gpus live with the sort keys (grid_sort), which the cells are made from."""

GRID_COLUMNS = (
    ColumnSpec("host", "Host", None, descending=False),
    ColumnSpec("state", "State", 16),
    ColumnSpec("lat", "Lat", 5, drop=7),
    ColumnSpec("cpu", "CPU", 5),
    ColumnSpec("load", "Load", 6, drop=6),
    ColumnSpec("mem", "Mem", 19, drop=3),
    ColumnSpec("gpus", "GPUs", 18),
    ColumnSpec("gpumem", "GPU mem", 15, drop=2),
    ColumnSpec("temp", "Temp", 5, drop=5),
    ColumnSpec("disk", "Disk", 15),
    ColumnSpec("ctrs", "Ctrs", 11, drop=1),
    ColumnSpec("net", "Net ↓/↑", 12, drop=8),
)
"""Grid columns, left to right. In a narrow terminal latency goes first, then load, temperature,
the GPU·1h trend (drop 4), memory, GPU memory and containers; host, state, CPU, GPUs and disk
always show; the network column (receive/send per second of the physical interfaces) goes
before any of them."""


MIG_CHARS = 12
"""Most per-unit characters in a GPUs cell before only the count shows (8 GPUs x 7 MIG)."""


_SECTIONS = tuple(Section)
"""Every section (iterating the Enum class itself is slow, and this runs per host per repaint)."""


def host_row(snap: HostSnapshot, ctx: GridContext) -> RowData:
    """The grid row of one host."""
    if not snap.is_up and _no_data(snap):  # every host at start: connecting, nothing read
        cells = (_host(snap, ctx), _state(snap, ctx), *_no_data_cells())
    else:
        cells = tuple(render(snap, ctx) for render in _RENDERERS)
    return RowData(snap.name, cells, snap)


def _no_data(snap: HostSnapshot) -> bool:
    """True when the cells after State of a host that is not up are those of no data (the
    renderers read nothing else of such a host: latency to network want it up)."""
    return not (
        snap.gpus
        or snap.gpu_error
        or snap.disks
        or snap.disks_error
        or snap.containers
        or snap.docker_error
    )


_NO_DATA: list[tuple[Cell, ...]] = []


def _no_data_cells() -> tuple[Cell, ...]:
    """The cells after State of a host with no data, made once by the renderers and shared
    by such rows (cells are replaced, never changed): a 5,000-host grid's first rows."""
    if not _NO_DATA:
        empty = HostSnapshot(name="", state=HostState.CONNECTING, time=0.0)
        _NO_DATA.append(tuple(render(empty, GridContext(0.0, 1.0)) for render in _RENDERERS[2:]))
    return _NO_DATA[0]


def _host(snap: HostSnapshot, ctx: GridContext) -> Cell:
    flagged = bool(snap.stale) or any(snap.error_of(section) for section in _SECTIONS)
    cell = Cell(sort_key=keys.host_key(snap, ctx))
    cell.add(literal(snap.name), "bold" if snap.is_up else BAD)
    return cell.add(" !", WARN) if flagged and snap.is_up else cell


def _state(snap: HostSnapshot, ctx: GridContext) -> Cell:
    if snap.state is HostState.CONNECTING:
        return Cell("connecting…", DIM, keys.state_key(snap, ctx))
    if not snap.is_up:
        cell = Cell(sort_key=keys.state_key(snap, ctx)).add(str(snap.state), BAD)
        if snap.error:
            cell.add(": ", BAD).add(literal(snap.error), BAD)
        since = snap.data_time or snap.state_since
        return cell.add(_ago(since, ctx.now), DIM) if since is not None else cell
    issues = section_issues(snap)
    age = ctx.now - snap.time
    cell = Cell(sort_key=keys.state_key(snap, ctx, issues))
    if issues:
        cell.add("! ", WARN).add(literal("; ".join(issues)), WARN)
    else:
        cell.add("up", OK)
    return cell.add(_ago(snap.time, ctx.now), DIM) if age > 2 * ctx.interval else cell


def _ago(since: float | None, now: float) -> str:
    return "" if since is None else f" ({duration(now - since)} ago)"


def _latency(snap: HostSnapshot, ctx: GridContext) -> Cell:
    ms = keys.latency_of(snap)
    if ms is None:
        return na_cell()
    shown = f"{ms:.0f}ms" if ms < 1000 else f"{ms / 1000:.1f}s"
    return number_cell(shown, ms, severity(ms, 500, 2000))


def _cpu(snap: HostSnapshot, ctx: GridContext) -> Cell:
    value = keys.cpu_of(snap)
    return number_cell(percent(value), value, severity(value, 70, 90))


def _load(snap: HostSnapshot, ctx: GridContext) -> Cell:
    load = keys.load_of(snap)
    if load is None:
        return na_cell()
    cores = snap.cpu.count if snap.cpu else None
    per_core = load / cores if cores else None
    return number_cell(f"{load:.1f}", load, severity(per_core, 1.0, 2.0))


def _memory(snap: HostSnapshot, ctx: GridContext) -> Cell:
    found = keys.memory_of(snap)
    if found is None:
        return na_cell()
    mem, share = found
    shown = f"{percent(share):>4} {used_of(mem.used, mem.total)}"
    return number_cell(shown, share, severity(share, 75, 90))


def _gpus(snap: HostSnapshot, ctx: GridContext) -> Cell:
    key = keys.gpus_key(snap, ctx)
    if not snap.gpus:
        return Cell("error" if snap.gpu_error else "-", WARN if snap.gpu_error else DIM, key)
    units = busy_gpus(snap)
    free = keys.free_units(units)
    mig = any(unit.instance is not None for unit, _ in units)
    cell = Cell(sort_key=key)
    marks = len(units) <= MIG_CHARS or not mig
    if marks:
        for unit, is_busy in units:
            if unit.error:
                cell.add("✗", BAD)
            elif unit.instance is not None:
                # An instance has no utilisation reading: its mark says busy or free.
                cell.add("■" if is_busy else "□", "" if is_busy else OK)
            else:
                cell.add(level_char(unit.util_percent), "" if is_busy else OK)
    cell.add(f"{' ' if marks else ''}{free}/{len(units)} free", OK if free else DIM)
    return cell.add(" MIG", DIM) if mig else cell


def _gpu_memory(snap: HostSnapshot, ctx: GridContext) -> Cell:
    found = keys.gpu_memory_of(snap)
    if found is None:
        return na_cell()
    used, total, share = found
    return number_cell(used_of(used, total), share, severity(share, 90, 98))


def _temperature(snap: HostSnapshot, ctx: GridContext) -> Cell:
    hottest = keys.hottest_of(snap)
    if hottest is None:
        return na_cell()
    return number_cell(f"{hottest:.0f}°C", hottest, severity(hottest, 75, 85))


def _disk(snap: HostSnapshot, ctx: GridContext) -> Cell:
    found = keys.fullest_disk(snap)
    if found is None:
        return Cell("error", WARN) if snap.disks_error else na_cell()
    worst, disk = found
    style = severity(worst, 80, 90)
    cell = Cell(sort_key=keys.value_key(worst)).add(f"{percent(worst)} ", style)
    return cell.add(literal(disk.mount), style)


def _containers(snap: HostSnapshot, ctx: GridContext) -> Cell:
    key = keys.containers_key(snap, ctx)
    if not snap.containers:
        return Cell("error", WARN, key) if snap.docker_error else Cell("-", DIM, key)
    running, stale = keys.container_counts(snap, ctx)
    cell = Cell(f"{running}/{len(snap.containers)}", sort_key=key)
    return cell.add(f" {stale} stale", WARN) if stale else cell


def _network(snap: HostSnapshot, ctx: GridContext) -> Cell:
    found = keys.network_of(snap)
    if found is None:
        return Cell("error", WARN) if snap.is_up and snap.network_error else na_cell()
    rx, tx, total = found
    return number_cell(f"{short_bytes(rx)}↓ {short_bytes(tx)}↑", total)


Renderer = Callable[[HostSnapshot, GridContext], Cell]

_RENDERER_OF: dict[keys.SortKeyOf, Renderer] = {
    keys.host_key: _host,
    keys.state_key: _state,
    keys.latency_key: _latency,
    keys.cpu_key: _cpu,
    keys.load_key: _load,
    keys.memory_key: _memory,
    keys.gpus_key: _gpus,
    keys.gpu_memory_key: _gpu_memory,
    keys.temperature_key: _temperature,
    keys.disk_key: _disk,
    keys.containers_key: _containers,
    keys.network_key: _network,
}
"""Each column's renderer beside its sort rule in grid_sort, whose functions give its cells'
sort keys and the values they show."""

_RENDERERS: tuple[Renderer, ...] = tuple(_RENDERER_OF[key] for key in keys.SORT_KEYS)
"""The renderers in column order: grid_sort.SORT_KEYS', so that the two cannot drift apart."""


_STATE_CELL = _RENDERERS.index(_state)

_ERRORS = attrgetter(*(f.name for f in fields(HostSnapshot) if f.name.endswith("_error")))
"""Every section error of a snapshot (a superset of what `error_of` reads)."""

_INPUTS: dict[Callable[[HostSnapshot, GridContext], Cell], Callable[[HostSnapshot], object]] = {
    _host: lambda s: (s.name, s.is_up, s.stale, _ERRORS(s)),
    _gpus: lambda s: (s.gpus, s.gpu_processes, s.gpu_error),
    _gpu_memory: lambda s: s.gpus,
    _temperature: lambda s: s.gpus,
    _disk: lambda s: (s.disks, s.disks_error),
    _containers: lambda s: (s.containers, s.docker_error),
}
"""Everything of a snapshot that a renderer reads besides the context, for the renderers whose
cells seldom change: while it is equal, the cell drawn last time is the cell (see next_row)."""


_STATE_INPUTS = attrgetter(
    "state", "error", "stale", *(f.name for f in fields(HostSnapshot) if f.name.endswith("_error"))
)
"""What the State cell of an up host whose age is not on show reads: its issues (errors, stale)."""


def next_row(
    before: HostSnapshot,
    row: RowData,
    snap: HostSnapshot,
    ctx: GridContext,
    *,
    no_age: bool = False,
) -> RowData:
    """host_row(snap, ctx), given that `row` is host_row(before, ctx) with the same context but
    for the time: the cells whose inputs are equal are `row`'s own objects (not made again,
    and the table sees at once that they did not change); the others are made anew. An idle
    host's tick changes 3-4 cells of 12 (latency, CPU, load, memory). `no_age`: neither row
    shows an age (both up, their data fresh), so the State cell is kept while its issues are."""
    cells = row.cells
    made = []
    for index, render in enumerate(_RENDERERS):
        inputs = _INPUTS.get(render)
        if render is _state and no_age:
            inputs = _STATE_INPUTS
        if inputs is not None and _equal(inputs(before), inputs(snap)):
            made.append(cells[index])
        else:
            made.append(render(snap, ctx))
    return RowData(snap.name, tuple(made), snap)


def _equal(a: object, b: object) -> bool:
    return a is b or a == b


def with_state(row: RowData, snap: HostSnapshot, ctx: GridContext) -> RowData:
    """`row`, made from a reading with the same content as `snap`, with its State cell made
    again: the one cell that shows an age ("12s ago"), which moves with the clock."""
    cells = row.cells
    state = _state(snap, ctx)
    return RowData(snap.name, (*cells[:_STATE_CELL], state, *cells[_STATE_CELL + 1 :]), snap)


def summary_line(
    counts: tuple[int, int, int, int, int, int, int],
    stale_count: int,
    alerts: int,
    shown: int | None = None,
) -> Text:
    """The summary line from its counts: hosts, up, connecting, busy GPUs, free GPUs, MIG
    units, running containers."""
    hosts, up, waiting, busy, free, mig, running = counts
    down = hosts - up - waiting
    text = Text.assemble(("Hosts ", "bold"), (f"{up} up", OK))
    text.append(f", {down} down", BAD if down else DIM)
    if waiting:
        text.append(f", {waiting} connecting", DIM)
    text.append("   GPUs ", "bold").append(f"{busy} busy, ")
    text.append(f"{free} free", OK).append(f" of {busy + free}")
    if mig:
        text.append(f" (incl. {mig} MIG instances)", DIM)
    text.append("   Containers ", "bold").append(f"{running} running, ")
    text.append(f"{stale_count} stale", WARN if stale_count else DIM)
    text.append("   Alerts ", "bold").append(str(alerts), BAD if alerts else DIM)
    if shown is not None and shown != hosts:
        text.append(f"   showing {shown} of {hosts}", WARN)
    return text
