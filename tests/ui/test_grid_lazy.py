"""A large fleet's reading makes only the rows on screen; a row scrolled into view shows the
newest reading at once, and sorting orders every row as its cells would (Pilot)."""

from __future__ import annotations

import dataclasses
import random

from textual.widgets.data_table import ColumnKey

from clustertop.model import HostSnapshot, HostState
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.columns import GridContext, host_row
from tests.ui.helpers import NOW, ScriptedSource, cell_text, host, until, wait_rows, widget_text

COUNT = 800


def _fleet_app() -> tuple[list[str], ScriptedSource, ClusterTopApp]:
    """COUNT hosts at 10 % CPU, and the app watching them."""
    names = [f"h{i:04d}" for i in range(COUNT)]
    source = ScriptedSource([host(name, cpu=10.0) for name in names])
    return names, source, ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))


def _line_of(text: str, name: str) -> str:
    return next((line for line in text.splitlines() if name in line), "")


async def test_a_row_scrolled_into_view_shows_the_newest_reading() -> None:
    names, source, app = _fleet_app()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.grid.table
        await wait_rows(table, COUNT)
        await until(lambda: "10%" in _line_of(widget_text(table), names[0]), "first reading")
        for name in names:  # the next reading: every host changed
            source.emit(host(name, cpu=55.0))
        await until(lambda: "55%" in _line_of(widget_text(table), names[0]), "rows in view")
        last = app.grid._rows[names[-1]]
        assert last.target.cpu.percent == 55.0  # type: ignore[attr-defined]
        assert not last.built  # off screen: its cells not made
        await until(lambda: "Hosts 800 up" in str(app.screen.query_one("#summary").render()), "sum")
        await pilot.press("pagedown", "pagedown")  # a row two screens down comes into view
        far = table.ordered_keys()[table.cursor_row]
        await until(lambda: app.grid._rows[far].built, "the row paged to, drawn")
        assert far != names[0] and "55%" in _line_of(widget_text(table), far)
        await pilot.press("ctrl+end")
        # Drawn by the app (not read by the test): the row's cells made for its first paint.
        await until(lambda: app.grid._rows[names[-1]].built, "the last row drawn")
        assert "55%" in _line_of(widget_text(table), names[-1])
        assert cell_text(table, names[-1], "cpu") == "55%"
        assert cell_text(table, names[COUNT // 2], "cpu") == "55%"  # read: made on asking
        assert table.row_count == COUNT


async def test_sorting_by_cpu_orders_every_row_as_its_cells_would() -> None:
    rng = random.Random(7)
    names, source, app = _fleet_app()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.grid.table
        await wait_rows(table, COUNT)
        while not app.grid.sub_title.startswith("sorted by CPU"):
            await pilot.press("s")
        snaps = []
        for index, name in enumerate(names):
            snap = host(name, cpu=float(rng.randint(0, 20)))  # many equal: the host order decides
            if index % 50 == 0:
                snap = dataclasses.replace(snap, state=HostState.TIMEOUT)  # no CPU: last
            snaps.append(snap)
            source.emit(snap)

        def order(reverse: bool) -> list[str]:
            def key(snap: HostSnapshot) -> tuple[bool, float, int]:
                # The CPU cell as an eager grid made it, unknown last in either direction.
                cpu = host_row(snap, GridContext(NOW, 5.0)).cells[3].sort_key
                value = 0.0 if cpu is None else float(cpu[0])
                return (cpu is None, value if reverse else -value, names.index(snap.name))

            return [snap.name for snap in sorted(snaps, key=key)]

        await until(lambda: table.ordered_keys() == order(False), "the eager order")
        lazy = [name for name in names if not app.grid._rows[name].built]
        assert len(lazy) > COUNT // 2  # ordered without making their cells
        await pilot.press("r")
        await until(lambda: table.ordered_keys() == order(True), "the eager order, reversed")
        for _ in range(5):  # a few hosts move: their order is checked near them alone
            moved = {name: rng.choice((0, 7, 99)) for name in rng.sample(names, 4)}
            for name, cpu in moved.items():
                snaps[names.index(name)] = snap = host(name, cpu=float(cpu))
                source.emit(snap)
            await until(
                lambda m=moved: all(cell_text(table, n, "cpu") == f"{c}%" for n, c in m.items()),
                "the moved rows' new values",
            )
            assert table.ordered_keys() == order(True)  # ordered by the sync that showed them


async def test_hosts_waiting_for_their_first_reading_are_made_when_drawn() -> None:
    # The longest name last: the host column is as wide as it, off screen, from the start.
    names = [f"h{i:04d}" for i in range(COUNT - 1)] + ["a-much-longer-host-name-than-the-rest"]
    source = ScriptedSource([host(name) for name in names])
    source.initial = []  # no reading: every host connecting
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.grid.table
        await wait_rows(table, COUNT)
        await until(lambda: "connecting" in _line_of(widget_text(table), names[0]), "first rows")
        assert table.ordered_keys() == names  # the source's order
        assert not app.grid._rows[names[-1]].built  # off screen: its cells not made
        assert table.columns[ColumnKey("host")].content_width == len(names[-1])
        await pilot.press("ctrl+end")
        await until(lambda: app.grid._rows[names[-1]].built, "the last row drawn")
        assert "connecting…" in _line_of(widget_text(table), names[-1])
        assert cell_text(table, names[COUNT // 2], "state") == "connecting…"  # read: made
        source.emit(host(names[-1], cpu=42.0))
        await until(lambda: "42%" in _line_of(widget_text(table), names[-1]), "its first reading")
