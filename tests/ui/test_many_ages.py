"""Thousands of hosts whose data has aged: the ages in view move each second, and a row
scrolled into view shows its current age within a second (the rest wait: keys stay quick)."""

from __future__ import annotations

from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.app import AGE_ALL_MAX
from tests.ui.helpers import NOW, ScriptedSource, cell_text, host, until, wait_rows

SIZE = (160, 30)
COUNT = AGE_ALL_MAX + 100


async def test_ages_in_view_move_and_a_row_scrolled_into_view_catches_up() -> None:
    clock = [NOW]
    names = [f"h{i:03d}" for i in range(COUNT)]
    source = ScriptedSource([host(name, time=NOW - 30) for name in names])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: clock[0]))
    async with app.run_test(size=SIZE):
        table = app.grid.table
        await wait_rows(table, COUNT)
        first, last = names[0], names[-1]
        assert cell_text(table, first, "state") == "up (30s ago)"
        assert last not in app.grid.hosts_in_view()
        clock[0] = NOW + 5
        await until(lambda: cell_text(table, first, "state") == "up (35s ago)", "age in view")
        assert cell_text(table, last, "state") == "up (30s ago)"  # out of view: it waits
        clock[0] = NOW + 7
        app.go_to_host(last)  # as the command palette's host search does
        await until(lambda: last in app.grid.hosts_in_view(), "the last host in view")
        await until(lambda: cell_text(table, last, "state") == "up (37s ago)", "age scrolled in")
