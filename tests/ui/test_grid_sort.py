"""The grid's sort keys and its incremental summary, over varied snapshots (up, down, connecting,
MIG, no GPUs, errors, NaN): each column's key equals its cells' and a reference written out from
the snapshot's fields, the GPU counts follow the free rule worked out by hand, and the summary
counted incrementally equals summary_text: lazy rows sort and the summary counts without cells."""

from __future__ import annotations

import dataclasses
import math
import random
import re
from collections.abc import Iterable

from rich.text import Text

from clustertop.analysis.issues import section_issues
from clustertop.model import MIB, Disk, Gpu, GpuProcess, HostSnapshot, HostState, Section
from clustertop.model.network import Interface, InterfaceKind, NetCounters, off_host_rates
from clustertop.ui.columns import (
    _RENDERERS,
    GRID_COLUMNS,
    GridContext,
    busy_gpus,
    host_row,
    summary_line,
)
from clustertop.ui.grid_sort import SORT_KEYS
from clustertop.ui.grid_summary import SummaryCounts, host_counts
from clustertop.ui.widgets.cells import SortKey
from clustertop.util.units import ratio_percent
from tests.ui.helpers import NOW, host
from tests.ui.test_mig_panes import mig_host


def summary_text(
    snaps: Iterable[HostSnapshot], stale_count: int, alerts: int, shown: int | None = None
) -> Text:
    """The summary line counted afresh over every host (what SummaryCounts keeps up to date)."""
    hosts = list(snaps)
    up = sum(1 for snap in hosts if snap.is_up)
    waiting = sum(1 for snap in hosts if snap.state is HostState.CONNECTING)
    units = [pair for snap in hosts if snap.is_up for pair in busy_gpus(snap)]
    busy = sum(1 for _, flag in units if flag)
    mig = sum(1 for unit, _ in units if unit.instance is not None)
    running = sum(
        1 for snap in hosts for ctr in snap.containers if snap.is_up and ctr.state == "running"
    )
    counts = (len(hosts), up, waiting, busy, len(units) - busy, mig, running)
    return summary_line(counts, stale_count, alerts, shown)


def _gpu(index: int, util: float | None, used: int | None, **changes: object) -> Gpu:
    gpu = Gpu(index, f"GPU-x-{index}", "H100", util, used, 80_000 * MIB, 61.0, None, None)
    return dataclasses.replace(gpu, **changes)


def _interface(name: str, kind: InterfaceKind, rx: float | None, tx: float | None) -> Interface:
    return Interface(NetCounters(name, 0, 0, 0, 0, 0, 0, 0, 0), kind, rx, tx)


def _varied(nan: float = 7.0) -> list[HostSnapshot]:
    """Hosts as the grid meets them; `nan`: one GPU's utilisation (NaN sort keys never compare
    equal, so only the counts, and that its row draws, are checked with it)."""
    base = host("h", cpu=33.0)
    idle = (_gpu(0, 0.0, 0), _gpu(1, 3.0, 400 * MIB), _gpu(2, None, 0), _gpu(3, 1.0, None))
    odd = (_gpu(0, nan, 0), _gpu(1, 0.0, 0, error="XID 79"), _gpu(2, 90.0, 10 * MIB))
    on_gpu = GpuProcess(1, 2, "", 9 * MIB, "bob", "x")  # by index, no UUID
    return [
        base,
        dataclasses.replace(base, gpus=idle),
        dataclasses.replace(base, gpus=odd, gpu_processes=(on_gpu,)),
        dataclasses.replace(base, gpus=(), gpu_processes=(), gpu_error="nvidia-smi failed"),
        dataclasses.replace(base, gpus=(), gpu_processes=()),
        mig_host("m"),
        dataclasses.replace(base, state=HostState.CONNECTING, time=NOW - 30),
        dataclasses.replace(base, state=HostState.TIMEOUT, error="no answer", data_time=NOW - 90),
        dataclasses.replace(base, state=HostState.ERROR, error="boom"),
        dataclasses.replace(base, time=NOW - 60, latency_ms=None, cpu=None, load=None),
        dataclasses.replace(base, latency_ms=2500.0, memory=None, disks_error="df: timeout"),
        dataclasses.replace(base, disks=(), containers=(), docker_error="docker: denied"),
        dataclasses.replace(base, disks=(Disk("/", "/dev/a", "ext4", 100, 0, 100),)),
        dataclasses.replace(base, containers=(), system_error="stat unreadable"),
        dataclasses.replace(
            base,
            interfaces=(
                _interface("eth0", InterfaceKind.PHYSICAL, 1e6, None),
                _interface("lo", InterfaceKind.LOOPBACK, 5.0, 5.0),
            ),
        ),
        dataclasses.replace(
            base, interfaces=(_interface("ib0", InterfaceKind.INFINIBAND, None, None),)
        ),
        dataclasses.replace(base, network_error="no /proc/net/dev"),
    ]


def test_every_column_sort_key_equals_its_cells() -> None:
    assert len(SORT_KEYS) == len(_RENDERERS) == len(GRID_COLUMNS)
    snaps = _varied()
    assert any(snap.error_of(Section.SYSTEM) for snap in snaps)  # a flagged host is among them
    stale = frozenset({snaps[0].containers[0].id})
    for rank, snap in enumerate(snaps):
        for ctx in (GridContext(NOW, 5.0, frozenset(), rank), GridContext(NOW, 5.0, stale, rank)):
            cells = host_row(snap, ctx).cells
            for index, column in enumerate(GRID_COLUMNS):
                key = SORT_KEYS[index](snap, ctx)
                assert key == cells[index].sort_key, (column.key, rank, key)


def _expected_gpus(nan: float) -> list[tuple[int, int] | None]:
    """(free units, units) of each _varied(nan) host, worked out by hand from the free rule (no
    process; utilisation <= 5 % and memory <= 500 MiB, both known; no error; NaN is not over):
    the base host's one GPU runs at 50 %; of the idle four, 0 % and 3 % / 400 MiB are free and
    the two with an unknown figure not; of the odd three only the first (NaN or 5 %; not 7 %),
    as the next has an error and the last a process; the MIG host has 3 of its 4 instances free
    (bob runs in one); the hosts after it keep the base host's GPU."""
    odd = (0, 3) if nan == 7.0 else (1, 3)
    return [(0, 1), (2, 4), odd, None, None, (3, 4), *[(0, 1)] * 11]


def _reference(snap: HostSnapshot, ctx: GridContext, gpus: tuple[int, int] | None) -> list[SortKey]:
    """Each column's sort key written out from the snapshot's fields, in GRID_COLUMNS' order
    (`gpus`: the GPU column's counts, from _expected_gpus)."""
    up = snap.is_up
    if snap.state is HostState.CONNECTING:
        state = 2.0
    else:
        state = 3.0 if not up else 1.0 if section_issues(snap) else 0.0
    mem = snap.memory if up else None
    sized = [gpu for gpu in snap.gpus if gpu.memory_total is not None]
    temps = [gpu.temperature_c for gpu in snap.gpus if gpu.temperature_c is not None]
    full = [disk.percent for disk in snap.disks if disk.percent is not None]
    rx, tx = off_host_rates(snap.interfaces) if up else (None, None)
    running = sum(1 for ctr in snap.containers if ctr.state == "running")
    stale = sum(1 for ctr in snap.containers if ctr.id in ctx.stale)
    return [
        (float(ctx.rank),),
        (state,),
        (snap.latency_ms,) if up and snap.latency_ms is not None else None,
        (snap.cpu.percent,) if up and snap.cpu and snap.cpu.percent is not None else None,
        (snap.load[0],) if up and snap.load else None,
        _maybe(ratio_percent(mem.used, mem.total) if mem else None),
        None if gpus is None else (float(gpus[0]), float(gpus[1])),
        _maybe(
            ratio_percent(
                sum(gpu.memory_used or 0 for gpu in sized),
                sum(gpu.memory_total or 0 for gpu in sized),
            )
            if sized
            else None
        ),
        (max(temps),) if temps else None,
        (max(full),) if full else None,
        (float(running), float(stale)) if snap.containers or not snap.docker_error else None,
        None if rx is None and tx is None else ((rx or 0.0) + (tx or 0.0),),
    ]


def _maybe(value: float | None) -> SortKey:
    return None if value is None else (value,)


def test_every_column_sort_key_equals_a_reference_from_the_fields() -> None:
    """The sort keys are no copy of the cells' (both take them from one function per column):
    checked here against the rules written out."""
    snaps = _varied()
    stale = frozenset({snaps[0].containers[0].id})
    for rank, (snap, gpus) in enumerate(zip(snaps, _expected_gpus(7.0), strict=True)):
        for ctx in (GridContext(NOW, 5.0, frozenset(), rank), GridContext(NOW, 5.0, stale, rank)):
            keys = [SORT_KEYS[index](snap, ctx) for index in range(len(GRID_COLUMNS))]
            assert keys == _reference(snap, ctx, gpus), (rank, ctx.stale)


def test_gpu_cells_show_the_free_units_they_sort_by() -> None:
    gpus_column = [column.key for column in GRID_COLUMNS].index("gpus")
    for nan in (7.0, math.nan, 5.0):
        for snap, expected in zip(_varied(nan), _expected_gpus(nan), strict=True):
            cell = host_row(snap, GridContext(NOW, 5.0)).cells[gpus_column]
            shown = re.search(r"(\d+)/(\d+) free", cell.plain)
            counts = None if shown is None else (int(shown[1]), int(shown[2]))
            assert counts == expected, (snap.name, cell.plain)
            assert cell.sort_key == (None if expected is None else tuple(map(float, expected)))


def test_rows_of_hosts_without_data_equal_their_cells_made_one_by_one() -> None:
    base = host("h")
    empty = HostSnapshot("e", HostState.CONNECTING, NOW - 3)
    hosts = [
        empty,
        dataclasses.replace(empty, state=HostState.TIMEOUT, error="no answer", state_since=NOW - 9),
        dataclasses.replace(base, state=HostState.UNREACHABLE),  # down, its last data kept
        dataclasses.replace(empty, docker_error="denied"),
        dataclasses.replace(empty, gpu_error="nvidia-smi failed"),
    ]
    for snap in hosts:
        ctx = GridContext(NOW, 5.0, frozenset({"x"}), 4)
        shown = [
            (cell.plain, cell.style, cell.spans, cell.sort_key)
            for cell in host_row(snap, ctx).cells
        ]
        made = [render(snap, ctx) for render in _RENDERERS]
        assert shown == [(cell.plain, cell.style, cell.spans, cell.sort_key) for cell in made]


def test_summary_counts_equal_summary_text_as_hosts_change() -> None:
    rng = random.Random(3)
    snaps = {f"h{i}": dataclasses.replace(snap, name=f"h{i}") for i, snap in enumerate(_varied())}
    counts = SummaryCounts()
    for step in range(30):
        name = rng.choice(sorted(snaps))
        pick = rng.choice(_varied())
        snaps[name] = dataclasses.replace(pick, name=name)
        if step % 7 == 6:  # a host leaves, or comes back
            snaps.pop(name) if len(snaps) > 3 else None
        shown = list(snaps.values())
        alerts, stale = step % 3, step % 4
        filtered = None if step % 2 else len(shown) - 1
        expected = summary_text(shown, stale, alerts, filtered)
        assert counts.text(shown, stale, alerts, filtered) == expected
        assert counts.text(shown, stale, alerts, filtered).plain == expected.plain


def test_free_gpu_count_without_units_follows_the_rule() -> None:
    """The summary's count without unit objects equals the counts worked out by hand, and
    busy_gpus' (the cells' and the analysis' units)."""
    for nan in (7.0, math.nan, 5.0):
        for snap, expected in zip(_varied(nan), _expected_gpus(nan), strict=True):
            if snap.is_up:
                free, units = expected or (0, 0)
                assert host_counts(snap)[2:4] == (units - free, free), (nan, snap.gpus)
                units_busy = busy_gpus(snap)
                assert sum(1 for _, is_busy in units_busy if not is_busy) == free


def test_a_nan_utilisation_draws_as_unknown() -> None:
    """A NaN from a host (an exporter, a driver) shows as an unknown level, never a crash."""
    snap = _varied(math.nan)[2]
    cells = host_row(snap, GridContext(NOW, 5.0, frozenset(), 0)).cells
    gpus = cells[[c.key for c in GRID_COLUMNS].index("gpus")]
    assert "?" in gpus.plain
