"""Grid rows are kept while only a host's reading times move on, and redrawn when anything else
(or the shown age) changes."""

from __future__ import annotations

from dataclasses import replace

from clustertop.model import MIB, Cpu, Disk, Gpu, HostSnapshot, HostState, Section
from clustertop.model.unchanged import keep_unchanged, same_but_time
from clustertop.ui.columns import GRID_COLUMNS, GridContext, busy_gpus, host_row
from clustertop.ui.row_cache import HostRows

NOW = 1_700_000_000.0


def _gpu(index: int, util: float) -> Gpu:
    return Gpu(index, f"GPU-{index}", "H100", util, 100 * MIB, 80_000 * MIB, 60.0, None, None)


def _snap(util: float = 40.0, at: float = NOW, cpu: float = 12.0) -> HostSnapshot:
    return HostSnapshot(
        "gpu01", HostState.UP, at, data_time=at, cpu=Cpu(cpu, None, None),
        gpus=(_gpu(0, util), _gpu(1, 0.0)),
    )  # fmt: skip


def _ctx(now: float = NOW) -> GridContext:
    return GridContext(now=now, interval=5.0)


def _cell(row: object, key: str) -> str:
    index = [c.key for c in GRID_COLUMNS].index(key)
    return row.cells[index].plain  # type: ignore[attr-defined]


def test_same_but_time_sees_any_other_difference() -> None:
    first = _snap()
    assert same_but_time(first, _snap(at=NOW + 5))
    assert not same_but_time(first, _snap(util=41.0))
    assert not same_but_time(first, replace(first, state=HostState.TIMEOUT))


def test_keep_unchanged_reuses_parts_only_when_nothing_else_changed() -> None:
    first = _snap()
    later = keep_unchanged(first, _snap(at=NOW + 5))
    assert later.time == NOW + 5 and later.gpus is first.gpus
    changed = _snap(util=90.0, at=NOW + 10)
    assert keep_unchanged(later, changed) is changed
    assert keep_unchanged(None, changed) is changed


def test_row_kept_while_only_times_move_on() -> None:
    rows = HostRows()
    first = rows.row(_snap(), _ctx())
    assert rows.row(_snap(at=NOW + 5), _ctx(NOW + 5)) is first
    busier = rows.row(_snap(util=95.0, at=NOW + 10), _ctx(NOW + 10))
    assert busier is not first and _cell(busier, "gpus") != _cell(first, "gpus")
    assert _cell(rows.row(_snap(cpu=80.0, at=NOW + 15), _ctx(NOW + 15)), "cpu") == "80%"


def test_an_age_on_show_is_redrawn() -> None:
    rows = HostRows()
    rows.row(_snap(), _ctx())
    old = rows.row(_snap(), _ctx(NOW + 60))  # data 60 s old at a 5 s interval: age shown
    assert "ago" in _cell(old, "state")
    down = replace(_snap(), state=HostState.UNREACHABLE, error="gone", state_since=NOW)
    assert rows.row(down, _ctx(NOW + 30)) is not rows.row(down, _ctx(NOW + 90))


def test_busy_gpus_follows_new_gpu_readings() -> None:
    idle = _snap(util=0.0)
    assert [busy for _, busy in busy_gpus(idle)] == [False, False]
    assert busy_gpus(idle) is busy_gpus(replace(idle, time=NOW + 5))
    assert [busy for _, busy in busy_gpus(_snap(util=50.0))] == [True, False]


def test_an_uptime_that_moves_with_the_clock_is_no_change() -> None:
    first = replace(_snap(), uptime_s=1_000.0)
    later = replace(_snap(at=NOW + 5), uptime_s=1_005.0)
    assert same_but_time(first, later)
    kept = keep_unchanged(first, later)
    assert kept.uptime_s == 1_005.0 and kept.gpus is first.gpus
    rebooted = replace(_snap(at=NOW + 5), uptime_s=3.0)
    assert not same_but_time(first, rebooted)
    assert not same_but_time(first, replace(later, uptime_s=None))


def test_an_aged_row_moves_its_state_cell_alone() -> None:
    """While readings lag, every host's age moves each second: only the State cell is made."""
    rows = HostRows()
    aged = rows.row(_snap(), _ctx(NOW + 20))
    later = rows.row(_snap(), _ctx(NOW + 21))
    assert "20s ago" in _cell(aged, "state") and "21s ago" in _cell(later, "state")
    state = [c.key for c in GRID_COLUMNS].index("state")
    assert all(
        a is b for i, (a, b) in enumerate(zip(aged.cells, later.cells, strict=True)) if i != state
    )
    assert [c.plain for c in later.cells] == [
        c.plain for c in host_row(_snap(), _ctx(NOW + 21)).cells
    ]
    fresh = rows.row(_snap(at=NOW + 25), _ctx(NOW + 26))
    assert "ago" not in _cell(fresh, "state")
    assert rows.row(_snap(at=NOW + 30), _ctx(NOW + 31)) is fresh
    busier = rows.row(_snap(util=95.0, at=NOW), _ctx(NOW + 40))
    assert _cell(busier, "state") == "up (40s ago)" and _cell(busier, "gpus") != _cell(
        fresh, "gpus"
    )


def test_a_changed_reading_makes_only_the_cells_whose_inputs_changed() -> None:
    """Every cell is what host_row gives; a CPU-only change keeps the other columns' cells."""
    disk = Disk("/", "/dev/sda1", "ext4", 100 * MIB, 50 * MIB, 50 * MIB)
    steps = [
        _snap(),
        _snap(cpu=30.0, at=NOW + 5),
        _snap(cpu=30.0, util=90.0, at=NOW + 10),
        replace(_snap(at=NOW + 15), disks=(disk,)),
        replace(_snap(at=NOW + 20), disks=(disk,), docker_error="docker: permission denied"),
        replace(_snap(at=NOW + 25), stale={Section.GPU: NOW}),
        replace(_snap(at=NOW + 30), gpu_error="nvidia-smi failed", gpus=()),
        replace(_snap(at=NOW + 35), state=HostState.UNREACHABLE, error="gone"),
        _snap(cpu=50.0, at=NOW + 40),
    ]
    rows = HostRows()
    for step in steps:
        row, expected = rows.row(step, _ctx(step.time)), host_row(step, _ctx(step.time))
        assert [(c.plain, c.spans, c.style, c.sort_key) for c in row.cells] == [
            (c.plain, c.spans, c.style, c.sort_key) for c in expected.cells
        ]
    cpu_only = HostRows()
    first = cpu_only.row(_snap(), _ctx())
    second = cpu_only.row(_snap(cpu=30.0, at=NOW + 5), _ctx(NOW + 5))
    for index, spec in enumerate(GRID_COLUMNS):
        if spec.key in {"host", "gpus", "gpumem", "temp", "disk", "ctrs"}:
            assert second.cells[index] is first.cells[index], spec.key
    assert _cell(second, "cpu") == "30%"


def test_the_state_cell_is_kept_only_while_neither_reading_shows_an_age() -> None:
    """Every cell is host_row's at every step (readings fresh, then late, then fresh again,
    with issues coming and going); a fresh reading's State cell is the last one's object
    while both are up, fresh and have the same issues."""
    steps = [  # (reading, clock)
        (_snap(), NOW),
        (_snap(cpu=20.0, at=NOW + 5), NOW + 5),
        (_snap(cpu=30.0, at=NOW + 10), NOW + 40),  # late: "up (30s ago)"
        (_snap(cpu=40.0, at=NOW + 45), NOW + 45),  # fresh again: "up"
        (replace(_snap(cpu=50.0, at=NOW + 50), stale={Section.GPU: 14.0}), NOW + 50),
        (replace(_snap(cpu=60.0, at=NOW + 55), stale={Section.GPU: 19.0}), NOW + 55),
        (_snap(cpu=70.0, at=NOW + 60), NOW + 60),
        (replace(_snap(cpu=80.0, at=NOW + 65), state=HostState.TIMEOUT, error="t"), NOW + 65),
        (_snap(cpu=90.0, at=NOW + 70), NOW + 70),
        (_snap(cpu=10.0, at=NOW + 75), NOW + 75),
    ]
    rows = HostRows()
    state = [c.key for c in GRID_COLUMNS].index("state")
    shown = []
    for snap, now in steps:
        row, expected = rows.row(snap, _ctx(now)), host_row(snap, _ctx(now))
        assert [(c.plain, c.spans, c.style, c.sort_key) for c in row.cells] == [
            (c.plain, c.spans, c.style, c.sort_key) for c in expected.cells
        ]
        shown.append(row.cells[state])
    assert [cell.plain for cell in shown[:4]] == ["up", "up", "up (30s ago)", "up"]
    assert shown[1] is shown[0] and shown[9] is shown[8]  # fresh, up, same issues: kept
    assert shown[3] is not shown[2] and shown[5] is not shown[4]  # age gone; stale 14s -> 19s
