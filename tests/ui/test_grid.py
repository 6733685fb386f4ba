"""The grid screen: every host, sorting, live updates, filtering, quitting."""

from __future__ import annotations

import dataclasses

import pytest

from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import HostState, Section
from clustertop.sources.base import SnapshotSink
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp, binding_ids
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import (
    NOW,
    ScriptedSource,
    cell_text,
    host,
    scripted_app,
    until,
    wait_rows,
    widget_text,
)
from tests.waiting import async_wait_for

SIZE = (160, 48)


async def test_grid_shows_every_demo_host() -> None:
    source = DemoSource(frozen=True)
    app = ClusterTopApp(source, options=AppOptions(clock=source.clock))
    async with app.run_test(size=SIZE):
        table = app.grid.table
        await wait_rows(table, len(source.host_names))
        assert table.ordered_keys() == list(source.host_names)
        assert cell_text(table, "gpu07", "state").startswith("unreachable: connection refused")
        assert "(2h13m ago)" in cell_text(table, "gpu07", "state")
        assert cell_text(table, "storage01", "disk") == "97% /data"
        assert cell_text(table, "gpu14", "state").startswith("! gpu: nvidia-smi timed out")
        assert cell_text(table, "gpu14", "host") == "gpu14 !"
        summary = widget_text(app.grid.query_one("#summary"))
        assert "23 up, 1 down" in summary


def _shown(app: ClusterTopApp) -> list[str]:
    return [str(key.value) for key in app.grid.table.columns]


async def test_a_narrow_terminal_hides_the_least_needed_columns_and_keeps_the_rest() -> None:
    source = DemoSource(frozen=True)
    app = ClusterTopApp(source, ClusterAnalysis(), AppOptions(clock=source.clock))
    every = ["host", "state", "lat", "cpu", "load", "mem", "gpus", "gpumem", "temp", "disk", "ctrs"]
    async with app.run_test(size=(180, 48)) as pilot:
        table = app.grid.table
        await wait_rows(table, len(source.host_names))
        assert _shown(app) == [*every, "gpu_trend"]
        await pilot.resize_terminal(120, 30)
        await until(lambda: "lat" not in _shown(app), "columns hidden")
        assert _shown(app) == ["host", "state", "cpu", "gpus", "gpumem", "disk", "ctrs"]
        region = table.virtual_size.width
        assert region <= 120, f"the shown columns fit: {region} cells"
        assert cell_text(table, "storage01", "disk") == "97% /data"
        await pilot.press("down", "down")
        cursor = table.cursor_key
        await pilot.press("s", "s", "s")  # Host -> State -> CPU -> GPUs: hidden ones skipped
        assert app.grid.sub_title == "sorted by GPUs ▼"
        assert table.cursor_key == cursor
        await pilot.resize_terminal(80, 24)
        await until(lambda: "gpumem" not in _shown(app), "more columns hidden")
        assert _shown(app) == ["host", "state", "cpu", "gpus", "disk"]
        await pilot.resize_terminal(180, 48)
        await until(lambda: len(_shown(app)) == len(every) + 1, "every column back")
        assert table.cursor_key == cursor and app.grid.sub_title == "sorted by GPUs ▼"


async def test_gpu_column_counts_free_gpus() -> None:
    busy = host("a")
    gpu = busy.gpus[0]
    idle_gpus = tuple(
        dataclasses.replace(
            gpu, index=i, uuid=f"GPU-idle-{i}", util_percent=0.0, memory_used=4 * 1024 * 1024
        )
        for i in (1, 2)
    )
    snap = dataclasses.replace(busy, gpus=(gpu, *idle_gpus))
    app, _ = scripted_app([snap])
    async with app.run_test(size=SIZE):
        await wait_rows(app.grid.table, 1)
        assert cell_text(app.grid.table, "a", "gpus") == "▅▁▁ 2/3 free"


async def test_sort_and_reverse_keep_the_cursor_on_the_same_host() -> None:
    app, _ = scripted_app([host("a", cpu=50), host("b", cpu=90), host("c", cpu=10)])
    async with app.run_test(size=SIZE) as pilot:
        table = app.grid.table
        await wait_rows(table, 3)
        await pilot.press("down")  # cursor on "b"
        assert table.cursor_key == "b"
        for _ in range(3):  # Host -> State -> Lat -> CPU
            await pilot.press("s")
        assert app.grid.sub_title == "sorted by CPU ▼"
        assert table.ordered_keys() == ["b", "a", "c"]
        assert table.cursor_key == "b"
        await pilot.press("r")
        assert table.ordered_keys() == ["c", "a", "b"]
        assert table.cursor_key == "b"
        assert table.cursor_row == 2


async def test_live_update_changes_a_cell_without_moving_cursor_or_scroll() -> None:
    names = [f"h{n:03d}" for n in range(80)]
    app, source = scripted_app([host(name) for name in names])
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.grid.table
        await wait_rows(table, 80)
        await pilot.press("pagedown", "down", "down")
        key, row, scroll = table.cursor_key, table.cursor_row, table.scroll_y
        assert scroll > 0
        source.emit(host(key or "", cpu=77.0))
        source.emit(host("h000", cpu=5.0))
        await async_wait_for(lambda: cell_text(table, key or "", "cpu") == "77%", what="new CPU")
        assert (table.cursor_key, table.cursor_row, table.scroll_y) == (key, row, scroll)
        assert cell_text(table, "h000", "cpu") == "5%"


async def test_live_reorder_keeps_cursor_on_the_host_when_sorted_column_changes() -> None:
    app, source = scripted_app([host("a", cpu=50), host("b", cpu=40), host("c", cpu=30)])
    async with app.run_test(size=SIZE) as pilot:
        table = app.grid.table
        await wait_rows(table, 3)
        await pilot.press("s", "s", "s", "down")  # by CPU, cursor on "b"
        assert table.cursor_key == "b"
        source.emit(host("c", cpu=99))
        await async_wait_for(lambda: table.ordered_keys() == ["c", "a", "b"], what="re-sort")
        assert table.cursor_key == "b"


async def test_filter_by_name_and_group_then_escape_clears() -> None:
    snaps = [host("gpu01"), host("gpu02"), host("cpu01")]
    app, _ = scripted_app(snaps, groups={"cpus": ["cpu01"]})
    async with app.run_test(size=SIZE) as pilot:
        table = app.grid.table
        await wait_rows(table, 3)
        await pilot.press("slash", "g", "p", "u")
        await until(lambda: table.ordered_keys() == ["gpu01", "gpu02"], "name filter")
        assert "showing 2 of 3" in widget_text(app.grid.query_one("#summary"))
        await pilot.press("enter")  # keeps the filter, back to the table
        await until(lambda: table.has_focus, "table focus")
        assert table.ordered_keys() == ["gpu01", "gpu02"]
        await pilot.press("escape")
        await until(lambda: table.row_count == 3, "filter cleared")
        assert table.ordered_keys() == ["gpu01", "gpu02", "cpu01"]
        await pilot.press("slash", *"@cpu")
        await until(lambda: table.ordered_keys() == ["cpu01"], "group filter")
        await pilot.press("escape")
        await until(lambda: table.row_count == 3, "filter cleared")
        assert not app.grid.filter_input.display


async def test_enter_opens_the_host_screen_and_escape_returns() -> None:
    app, _ = scripted_app([host("a"), host("b")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 2)
        await pilot.press("down", "enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        assert app.screen.host == "b"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await until(lambda: app.screen is app.grid, "back on the grid")
        assert app.grid.table.cursor_key == "b"


async def test_stale_sections_and_down_hosts_show_their_age() -> None:
    stale = host("s", stale={Section.DISKS: 14.0}, disks_error="df timed out")
    down = host("d", state=HostState.TIMEOUT, error="no answer", data_time=NOW - 45)
    old = host("o", time=NOW - 30)
    app, _ = scripted_app([stale, down, old])
    async with app.run_test(size=SIZE):
        table = app.grid.table
        await wait_rows(table, 3)
        assert cell_text(table, "s", "state") == "! disks: df timed out 14s"
        assert cell_text(table, "d", "state") == "timeout: no answer (45s ago)"
        assert cell_text(table, "d", "cpu") == "N/A"
        assert cell_text(table, "o", "state") == "up (30s ago)"


async def test_q_quits_and_closes_the_source() -> None:
    app, source = scripted_app([host("a")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("down", "enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        await pilot.press("q")
    assert app.return_code == 0
    assert source.cancelled and source.closed


async def test_key_overrides_remap_bindings_by_id() -> None:
    app, _ = scripted_app([host("a", cpu=1), host("b", cpu=2)], keys={"grid.sort": "o"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 2)
        await pilot.press("s")
        assert app.grid.sub_title == "sorted by Host ▲"
        await pilot.press("o")
        assert app.grid.sub_title == "sorted by State ▼"
        assert "o" in app.screen.active_bindings and "s" not in app.screen.active_bindings


class _FailingSource(ScriptedSource):
    async def run(self, sink: SnapshotSink) -> None:
        sink(host("a"))
        raise RuntimeError("ssh agent gone [b]x[/b]")


async def test_a_failing_source_is_reported_literally_and_the_app_keeps_running() -> None:
    source = _FailingSource([host("a")])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_rows(app.grid.table, 1)
        await until(lambda: app.screen.query("Toast"), "error toast")
        shown = str(app.screen.query("Toast").first().render())
        assert "Source stopped" in shown and "RuntimeError: ssh agent gone [b]x[/b]" in shown
        await pilot.press("s")
        assert app.is_running and app.grid.sub_title == "sorted by State ▼"


def test_binding_ids_are_unique_and_named_by_screen() -> None:
    ids = binding_ids()
    assert len(ids) == len(set(ids))
    assert {
        "grid.sort",
        "grid.open",
        "host.pane.gpus",
        "host.back",
        "app.quit",
        "help.close",
    } <= set(ids)


def test_unknown_theme_is_refused_before_the_app_starts() -> None:
    with pytest.raises(ValueError, match="unknown theme 'nope'"):
        ClusterTopApp(DemoSource(frozen=True), options=AppOptions(theme="nope"))
