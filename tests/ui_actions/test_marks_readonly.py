"""Marks for bulk actions (by identity, through sorts and refreshes) and the read-only mode."""

from __future__ import annotations

import pytest

from clustertop.actions.demo_runner import DemoActionRunner
from clustertop.actions.model import ContainerTarget, Verb
from clustertop.model import Container
from clustertop.ui import ClusterTopApp
from clustertop.ui.marks import MARK
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import until
from tests.ui_actions.helpers import (
    SIZE,
    confirmation,
    demo_app,
    modal_open,
    open_host,
    stale_now,
)

ACTION_KEYS = ("T", "K", "R", "D", "X", "space", "l")


def _marked_rows(screen: HostScreen) -> list[str]:
    """Row keys whose first cell shows the mark, in display order."""
    table = screen.current_table
    first = table.specs[0].key
    return [key for key in table.ordered_keys() if table.get_cell(key, first).plain[:2] == MARK]


async def test_marks_follow_rows_through_sort_and_refresh_and_bulk_lists_them() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await pilot.press("4")
        table = screen.current_table
        await until(lambda: table.row_count >= 4, "processes")
        first, second, _, fourth = table.ordered_keys()[:4]
        await pilot.press("space", "space", "space", "up", "space")  # mark 3, unmark the third
        assert screen.marks.keys("processes") == {first, second}
        assert table.cursor_key == fourth, "space moves the cursor down"
        assert sorted(_marked_rows(screen)) == sorted([first, second])
        await pilot.press("s", "s")
        assert sorted(_marked_rows(screen)) == sorted([first, second])
        before = app.live.store.get("gpu02")
        await until(lambda: app.live.store.get("gpu02") is not before, "a refresh")
        await pilot.pause(0.3)
        assert sorted(_marked_rows(screen)) == sorted([first, second])
        await pilot.press("T")
        modal = await confirmation(app)
        pids = {f"{t.pid}:{t.start_time}" for t in modal.targets}  # type: ignore[union-attr]
        assert pids == {first, second}
        assert modal.text().startswith("Send SIGTERM to 2 processes?")
        await pilot.press("escape")
        await until(lambda: app.screen is screen, "cancelled")
        assert screen.marks.keys("processes") == {first, second}, "cancel keeps the marks"


async def test_bulk_kill_of_marked_containers_then_marks_are_cleared() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await pilot.press("3")
        await until(lambda: screen.current_table.row_count == 2, "two containers")
        await pilot.press("space", "space", "K")
        modal = await confirmation(app)
        assert {t.name for t in modal.targets} == {"alice-train", "eve-notebook"}  # type: ignore[union-attr]
        await pilot.press("y")

        def states() -> set[str]:
            snap = app.live.store.get("gpu02")
            return {c.state for c in snap.containers} if snap else set()

        await until(lambda: states() == {"exited"}, "both killed")
        assert not screen.marks.keys("containers")
        await until(lambda: not _marked_rows(screen), "marks no longer shown")


async def test_a_marked_row_that_goes_away_loses_its_mark() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_host(app, pilot, "gpu02")
        await pilot.press("3")
        await until(lambda: screen.current_table.row_count == 2, "two containers")
        target = screen.selected_target()
        assert isinstance(target, Container)
        await pilot.press("space")
        assert screen.marks.keys("containers") == {target.id}
        runner = app.actions.runner
        assert isinstance(runner, DemoActionRunner)
        # Someone else removes it meanwhile.
        await runner.run(Verb.FORCE_REMOVE, ContainerTarget.of("gpu02", target))
        await until(lambda: screen.current_table.row_count == 1, "row gone")
        assert not screen.marks.keys("containers")


@pytest.mark.parametrize("readonly", [True, False], ids=["readonly", "no-runner"])
async def test_without_actions_no_key_acts_and_none_is_offered(readonly: bool) -> None:
    if readonly:
        app, _ = demo_app(readonly=True, analysis=stale_now())
    else:
        app, _ = demo_app(runner=None, analysis=stale_now())
    assert app.readonly
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.actions.stale_containers(app.host_names()), "stale containers")
        await pilot.press("X")
        assert not modal_open(app)
        screen = await open_host(app, pilot, "gpu02")
        for pane in ("2", "3", "4"):
            await pilot.press(pane, *ACTION_KEYS)
            await pilot.pause()
            assert app.screen is screen and not modal_open(app)
            shown = set(screen.active_bindings)
            assert not shown & set(ACTION_KEYS), shown
        assert not screen.marks.keys("containers")
        snap = app.live.store.get("gpu02")
        assert snap is not None and {c.state for c in snap.containers} == {"running"}
        await pilot.press("question_mark")
        help_text = str(app.screen.query_one("#help-keys").render())
        assert "Stop" not in help_text and "SIGTERM" not in help_text
    assert not _acted(app)


def _acted(app: ClusterTopApp) -> bool:
    runner = app.actions.runner
    return isinstance(runner, DemoActionRunner) and bool(runner.stopped or runner.ended)
