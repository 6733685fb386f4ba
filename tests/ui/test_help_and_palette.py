"""The `?` help lists the current screen's keys; the command palette opens hosts and filters."""

from __future__ import annotations

from textual.command import CommandList

from clustertop.ui.screens.grid import GridScreen
from clustertop.ui.screens.help import HelpScreen
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import host, scripted_app, until, wait_rows, widget_text
from tests.waiting import async_wait_for

SIZE = (160, 48)


def _palette_hits(app: object) -> int:
    lists = app.screen.query(CommandList)  # type: ignore[attr-defined]
    return lists.first().option_count if lists else 0


def _help_lines(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, HelpScreen)
    return "\n".join(f"{line.keys} {line.description}" for line in screen.lines)


async def test_help_on_the_grid_lists_grid_keys_and_closes() -> None:
    app, _ = scripted_app([host("a")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "help")
        text = _help_lines(app)
        for expected in ("⏎ Open", "s Sort", "r Reverse", "/ Filter", "q Quit", "k / ↑ Up"):
            assert expected in text
        assert "Next pane" not in text
        keys = app.screen.query_one("#help-keys")
        await until(lambda: "Reverse" in widget_text(keys) and "Quit" in widget_text(keys), "keys")
        for key in ("escape", "question_mark", "q"):
            await pilot.press(key)
            await until(lambda: isinstance(app.screen, GridScreen), f"help closed by {key}")
            if key != "q":
                await pilot.press("question_mark")
                await until(lambda: isinstance(app.screen, HelpScreen), "help again")
        assert app.is_running


async def test_help_on_the_host_screen_lists_pane_keys() -> None:
    app, _ = scripted_app([host("a")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        await pilot.press("4", "question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "help")
        text = _help_lines(app)
        for expected in (
            "1 GPUs",
            "5 Disks",
            "tab Next pane",
            "c By CPU",
            "m By memory",
            "esc Back",
        ):
            assert expected in text
        assert "Open" not in text
        keys = app.screen.query_one("#help-keys")
        await until(lambda: "By memory" in widget_text(keys), "pane keys shown")
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, HostScreen), "back on the host screen")


async def test_palette_goes_to_a_host() -> None:
    app, _ = scripted_app([host("alpha"), host("bravo"), host("charlie")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 3)
        await pilot.press("ctrl+p", *"go to host bravo")
        await until(lambda: _palette_hits(app) > 0, "palette hits")
        await pilot.press("enter")
        await async_wait_for(lambda: isinstance(app.screen, HostScreen), what="host screen")
        assert app.screen.host == "bravo"  # type: ignore[attr-defined]
        assert app.grid.table.cursor_key == "bravo"


async def test_palette_filter_hosts_opens_the_filter_box() -> None:
    app, _ = scripted_app([host("alpha"), host("bravo")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 2)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        await pilot.press("ctrl+p", *"filter hosts")
        await until(lambda: _palette_hits(app) > 0, "palette hits")
        await pilot.press("enter")
        await async_wait_for(lambda: app.grid.filter_input.has_focus, what="filter focus")
        await pilot.press(*"brav")
        assert app.grid.table.ordered_keys() == ["bravo"]
