"""The grid tells its source which hosts' rows are on screen (a screenful either side), as the
user scrolls, and nothing while another screen is on top (Pilot)."""

from __future__ import annotations

from collections.abc import Collection

from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import NOW, ScriptedSource, host, until, wait_rows

COUNT = 600


class _Watched(ScriptedSource):
    def __init__(self, names: list[str]) -> None:
        super().__init__([host(name, cpu=10.0) for name in names])
        self.views: list[frozenset[str]] = []

    def view(self, hosts: Collection[str] | None) -> None:
        self.views.append(frozenset(hosts or ()))


async def test_the_source_is_told_the_rows_in_view() -> None:
    names = [f"h{i:04d}" for i in range(COUNT)]
    source = _Watched(names)
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_rows(app.grid.table, COUNT)
        await until(lambda: source.views and names[0] in source.views[-1], "the top rows")
        shown = source.views[-1]
        # The rows on screen and a screenful either side: a few dozen, not the fleet.
        assert names[0] in shown and names[120] not in shown and len(shown) < 120
        await pilot.press("ctrl+end")
        await until(lambda: names[-1] in source.views[-1], "the rows scrolled to")
        assert names[0] not in source.views[-1]
        await pilot.press("enter")  # the host screen: the grid's view is left as it was
        await until(lambda: isinstance(app.screen, HostScreen), "host screen")
        told = len(source.views)
        await pilot.pause(2.5)  # two age ticks (1 s each) with the host screen on top
        assert len(source.views) == told


async def test_the_age_tick_while_the_app_starts_or_ends_asks_no_screen() -> None:
    """The one-second age tick may fire while the app is being taken down (no screen on the
    stack, the grid's table removed): it must not fail the app (it did, in a full test run)."""
    source = _Watched(["h0001", "h0002"])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 30)):
        await wait_rows(app.grid.table, 2)
        grid = app.grid
        await grid.table.remove()
        assert grid.hosts_in_view() == set()
    assert not app.screen_stack
    app._age_tick()
