"""Strings from hosts are shown literally: no markup, no escape sequences, no clickable actions."""

from __future__ import annotations

import dataclasses

import pytest

from clustertop.model import Disk, HostSnapshot, HostState, Process
from clustertop.ui.screens.host import HostScreen
from tests.reliability import record
from tests.ui.helpers import GIB, NOW, cell_text, host, scripted_app, until, wait_rows, widget_text
from tests.waiting import async_wait_for

CLICK_QUIT = "[@click=app.quit]x[/]"
CLOSE_TAG = "[/]"
CLEAR_SCREEN = "evil \x1b[2J"
MARKUP_LABEL = "[bold red]owner[/]"
MARKUP_MOUNT = "/mnt/[link=x]d[/link]"


def _hostile_host() -> HostSnapshot:
    base = host("h")
    procs = (
        Process(100, "root", 3.0, 1.0, GIB, NOW - 10, CLOSE_TAG),
        Process(101, "root", 2.0, 1.0, GIB, NOW - 10, CLICK_QUIT),
        Process(102, "root", 1.0, 1.0, GIB, NOW - 10, CLEAR_SCREEN),
    )
    container = dataclasses.replace(
        base.containers[0], name="[red]ctr", owner=MARKUP_LABEL, labels={"owner": MARKUP_LABEL}
    )
    disk = Disk(MARKUP_MOUNT, "/dev/[i]sdb", "xfs", 10 * GIB, GIB, 9 * GIB)
    return dataclasses.replace(
        base, processes=procs, containers=(container,), disks=(disk,), docker_error="[b]boom[/b]"
    )


@pytest.mark.reliability
async def test_hostile_strings_render_literally_in_cells_and_on_screen() -> None:
    app, _ = scripted_app([_hostile_host()])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        screen = app.screen
        assert isinstance(screen, HostScreen)
        await pilot.press("4")
        table = screen.current_table
        commands = [cell.plain for cell in table.get_column("command")]
        assert commands == [CLOSE_TAG, CLICK_QUIT, "evil \\x1b[2J"]
        await until(lambda: CLICK_QUIT in widget_text(table), "commands on screen")
        shown = widget_text(table)
        assert CLICK_QUIT in shown and "evil \\x1b[2J" in shown and "\x1b" not in shown
        await pilot.press("3")
        ctr = screen.current_table
        key = ctr.ordered_keys()[0]
        assert cell_text(ctr, key, "name") == "[red]ctr"
        assert cell_text(ctr, key, "owner") == MARKUP_LABEL
        # a 10-cell column: the literal text, cut
        await until(lambda: "[bold red…" in widget_text(ctr), "owner label on screen")
        await pilot.press("5")
        assert cell_text(screen.current_table, MARKUP_MOUNT, "mount") == MARKUP_MOUNT
        await until(lambda: MARKUP_MOUNT in widget_text(screen.current_table), "mount on screen")
        header = screen.query_one("#host-header")
        await until(lambda: "Docker: [b]boom[/b]" in widget_text(header), "docker error")
    record("hostile", "markup", "shown literally on screen: closing tags, @click, [link], [b]")
    record("hostile", "hostile-owner", f"owner label {MARKUP_LABEL!r} shown as text, not styled")


async def test_clicking_a_click_markup_process_name_does_not_quit() -> None:
    app, _ = scripted_app([_hostile_host()])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, HostScreen)
        table = screen.current_table
        row = table.get_row_index(table.ordered_keys()[1])
        assert table.get_cell_at((row, 7)).plain == CLICK_QUIT  # type: ignore[arg-type]
        x = sum(column.get_render_width(table) for column in table.ordered_columns[:7]) + 2
        for _ in range(2):  # a second click on the highlighted row "selects" it
            assert await pilot.click(table, offset=(x, row + 1))
        await pilot.pause()
        assert app.is_running and app.screen is screen
        assert table.cursor_key == table.ordered_keys()[1]


async def test_hostile_host_error_in_grid_state_is_literal() -> None:
    down = host("d", state=HostState.ERROR, error=f"{CLICK_QUIT} {CLEAR_SCREEN}")
    app, _ = scripted_app([down])
    async with app.run_test(size=(160, 40)):
        await wait_rows(app.grid.table, 1)
        await async_wait_for(lambda: "error:" in cell_text(app.grid.table, "d", "state"))
        state = cell_text(app.grid.table, "d", "state")
        assert state.startswith(f"error: {CLICK_QUIT} evil \\x1b[2J")
