"""The grid's sort keys and its incremental summary equal what the cells and summary_text give,
over varied snapshots (up, down, connecting, MIG, no GPUs, errors, NaN): lazy rows sort and the
summary counts without their cells."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable

from rich.text import Text

from clustertop.model import MIB, Disk, Gpu, GpuProcess, HostSnapshot, HostState, Section
from clustertop.model.network import Interface, InterfaceKind, NetCounters
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
    snaps = _varied()
    assert any(snap.error_of(Section.SYSTEM) for snap in snaps)  # a flagged host is among them
    stale = frozenset({snaps[0].containers[0].id})
    for rank, snap in enumerate(snaps):
        for ctx in (GridContext(NOW, 5.0, frozenset(), rank), GridContext(NOW, 5.0, stale, rank)):
            cells = host_row(snap, ctx).cells
            for index, column in enumerate(GRID_COLUMNS):
                key = SORT_KEYS[index](snap, ctx)
                assert key == cells[index].sort_key, (column.key, rank, key)


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


def test_free_gpu_count_without_units_equals_busy_gpus() -> None:
    for snap in [*_varied(), *_varied(math.nan), *_varied(5.0)]:
        if snap.is_up:
            units = busy_gpus(snap)
            free = sum(1 for _, is_busy in units if not is_busy)
            assert host_counts(snap)[2:4] == (len(units) - free, free), snap.gpus


def test_a_nan_utilisation_draws_as_unknown() -> None:
    """A NaN from a host (an exporter, a driver) shows as an unknown level, never a crash."""
    snap = _varied(math.nan)[2]
    cells = host_row(snap, GridContext(NOW, 5.0, frozenset(), 0)).cells
    gpus = cells[[c.key for c in GRID_COLUMNS].index("gpus")]
    assert "?" in gpus.plain
