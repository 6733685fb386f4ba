"""The host screen: panes, sorting, filtering, live updates, the selected-row seam."""

from __future__ import annotations

import dataclasses
import functools

from textual.pilot import Pilot
from textual.widget import Widget

from clustertop.model import Container, Disk, GpuProcess, Process
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.widgets.table_sync import KeyedTable
from tests.ui.helpers import (
    GIB,
    NOW,
    cell_text,
    host,
    scripted_app,
    until,
    wait_rows,
    widget_text,
)
from tests.waiting import async_wait_for

SIZE = (160, 48)


async def _open(app: ClusterTopApp, pilot: Pilot[None], name: str) -> HostScreen:
    await wait_rows(app.grid.table, len(app.host_names()))
    app.go_to_host(name)
    await async_wait_for(
        lambda: (
            isinstance(app.screen, HostScreen) and app.screen.host == name and app.screen.is_mounted
        ),
        what=name,
    )
    await pilot.pause()  # let the new screen finish mounting before anything else
    screen = app.screen
    assert isinstance(screen, HostScreen)
    return screen


def _shows(widget: Widget, text: str) -> bool:
    return text in widget_text(widget)


def _table(screen: HostScreen) -> KeyedTable:
    return screen.current_table


async def test_each_pane_shows_its_rows_on_the_demo() -> None:
    source = DemoSource(frozen=True)
    app = ClusterTopApp(source, options=AppOptions(clock=source.clock))
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "dgx-a")
        expected = {
            "1": ("gpus", 8, "name", "NVIDIA A100-SXM4-80GB"),
            "2": ("gpu-processes", 8, "container", "farid-sweep-old"),
            "3": ("containers", None, "name", "farid-sweep-old"),
            "4": ("processes", None, "command", "/sbin/init"),
            "5": ("disks", 4, "mount", "/scratch"),
        }
        for key, (pane, count, column, text) in expected.items():
            await pilot.press(key)
            assert screen.current_pane.id == pane
            table = _table(screen)
            await until(functools.partial(getattr, table, "has_focus"), f"{pane} table focus")
            if count is not None:
                assert table.row_count == count
            assert text in [cell.plain for cell in table.get_column(column)]
        await pilot.press("tab")
        assert screen.current_pane.id == "gpus"
        await pilot.press("shift+tab")
        assert screen.current_pane.id == "disks"


async def test_header_shows_section_errors_literally_and_staleness() -> None:
    source = DemoSource(frozen=True)
    app = ClusterTopApp(source, options=AppOptions(clock=source.clock))
    async with app.run_test(size=SIZE) as pilot:
        for name, line in (
            ("gpu11", "GPU: NVIDIA-SMI has failed because it couldn't communicate"),
            ("cpu03", "Disks: df timed out after 10 s; stale, 32s old"),
            ("login", "Docker: permission denied while trying to connect"),
        ):
            screen = await _open(app, pilot, name)
            header = screen.query_one("#host-header")
            await until(functools.partial(_shows, header, line), f"{name} header")


async def test_process_pane_sorts_by_cpu_and_memory_keeping_the_cursor() -> None:
    procs = (
        Process(10, "root", 5.0, 30.0, 20 * GIB, NOW - 50, "big-memory"),
        Process(11, "bob", 90.0, 1.0, 1 * GIB, NOW - 60, "busy"),
        Process(12, "eve", 40.0, 10.0, 6 * GIB, NOW - 70, "middle"),
    )
    app, _ = scripted_app([host("a", processes=procs)])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("4")
        table = _table(screen)
        await wait_rows(table, 3)
        assert table.ordered_keys() == [
            f"{pid}:{NOW - age}" for pid, age in ((11, 60), (12, 70), (10, 50))
        ]
        await pilot.press("down")
        assert table.cursor_key == f"12:{NOW - 70}"
        await pilot.press("m")
        assert [cell.plain for cell in table.get_column("command")] == [
            "big-memory",
            "middle",
            "busy",
        ]
        assert table.cursor_key == f"12:{NOW - 70}" and table.cursor_row == 1
        await pilot.press("r")
        assert [cell.plain for cell in table.get_column("command")] == [
            "busy",
            "middle",
            "big-memory",
        ]
        await pilot.press("c")
        assert [cell.plain for cell in table.get_column("command")] == [
            "busy",
            "middle",
            "big-memory",
        ]
        assert screen.sub_title == "a · sorted by CPU% ▼"


async def test_c_and_m_are_hidden_where_they_do_not_apply() -> None:
    app, _ = scripted_app([host("a")])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("1")
        keys = {binding.binding.key for binding in screen.active_bindings.values()}
        assert "c" not in keys and "m" not in keys
        await pilot.press("4")
        keys = {binding.binding.key for binding in screen.active_bindings.values()}
        assert {"c", "m"} <= keys


async def test_pane_filter_then_escape_clears_then_escape_goes_back() -> None:
    disks = tuple(
        Disk(mount, "/dev/x", "xfs", 10 * GIB, GIB, 9 * GIB) for mount in ("/", "/data", "/home")
    )
    app, _ = scripted_app([host("a", disks=disks)])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("5", "slash", *"data")
        table = _table(screen)
        await until(lambda: table.ordered_keys() == ["/data"], "pane filter")
        await pilot.press("enter")
        await until(lambda: table.has_focus, "table focus")
        assert table.ordered_keys() == ["/data"]
        await pilot.press("escape")
        await until(lambda: table.row_count == 3, "filter cleared")
        assert app.screen is screen
        await pilot.press("escape")
        await until(lambda: app.screen is app.grid, "back on the grid")


async def test_host_screen_follows_updates_and_keeps_the_row_identity() -> None:
    base = host("a")
    containers = tuple(
        dataclasses.replace(
            base.containers[0], id=f"{n}".ljust(64, "0"), name=f"c{n}", cpu_percent=float(n)
        )
        for n in range(5)
    )
    app, source = scripted_app([dataclasses.replace(base, containers=containers)])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("3", "down", "down")
        table = _table(screen)
        key = table.cursor_key
        assert key is not None and cell_text(table, key, "name") == "c2"
        changed = tuple(
            dataclasses.replace(c, status="Up 2 hours") if c.name == "c2" else c for c in containers
        )
        source.emit(dataclasses.replace(base, containers=changed[::-1], time=NOW))
        await async_wait_for(
            lambda: cell_text(table, key, "status") == "Up 2 hours", what="status update"
        )
        assert table.cursor_key == key and table.cursor_row == 2
        target = screen.selected_target()
        assert (
            isinstance(target, Container) and target.name == "c2" and target.status == "Up 2 hours"
        )
        assert app.selected_target() is target


async def test_selected_target_is_the_gpu_process_under_the_cursor() -> None:
    app, _ = scripted_app([host("a")])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("2")
        target = screen.selected_target()
        assert isinstance(target, GpuProcess)
        assert (target.pid, target.start_time, target.gpu_uuid) == (4242, NOW - 600, "GPU-a-0")
