"""A large fleet's reading is made into rows in slices (keys run between them): every row and
the summary still end up showing the newest snapshot of each host."""

from __future__ import annotations

import pytest

from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens import grid
from tests.ui.helpers import NOW, ScriptedSource, cell_text, host, until, wait_rows

COUNT = grid.ROW_SLICE_MIN + 300


async def test_rows_made_in_slices_show_every_hosts_newest_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grid, "ROW_SLICE_S", 0.0)  # a slice after every row: the most slices
    names = [f"h{i:04d}" for i in range(COUNT)]
    source = ScriptedSource([host(name, cpu=10.0) for name in names])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.grid.table
        await wait_rows(table, COUNT)
        await until(lambda: all(cell_text(table, n, "cpu") == "10%" for n in names), "first")
        for name in names:  # the next reading: every host changed
            source.emit(host(name, cpu=55.0))
        await pilot.press("down")  # a key while the slices run
        source.emit(host(names[0], cpu=77.0))  # and a host again, mid-way
        await until(lambda: all(cell_text(table, n, "cpu") == "55%" for n in names[1:]), "next")
        await until(lambda: cell_text(table, names[0], "cpu") == "77%", "the newest")
        assert table.row_count == COUNT
        assert not app.grid._pending and not app.grid._slicing


async def test_the_rows_in_view_are_made_and_shown_before_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grid, "ROW_SLICE_S", 0.0)
    names = [f"h{i:04d}" for i in range(COUNT)]
    source = ScriptedSource([host(name, cpu=10.0) for name in names])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 30)):
        table = app.grid.table
        await wait_rows(table, COUNT)
        await until(lambda: all(cell_text(table, n, "cpu") == "10%" for n in names), "first")
        held: list[grid.GridScreen] = []
        next_slice = grid.GridScreen._next_slice

        def hold(screen: grid.GridScreen) -> None:  # the slices after the first wait here
            held.append(screen)

        monkeypatch.setattr(grid.GridScreen, "_next_slice", hold)
        in_view = app.grid.hosts_in_view()
        for name in names:
            source.emit(host(name, cpu=55.0))
        await until(lambda: held, "the second slice due")
        assert in_view and all(cell_text(table, n, "cpu") == "55%" for n in in_view)
        assert cell_text(table, names[-1], "cpu") == "10%"  # out of view: in a later slice
        monkeypatch.setattr(grid.GridScreen, "_next_slice", next_slice)
        next_slice(held.pop())
        await until(lambda: all(cell_text(table, n, "cpu") == "55%" for n in names), "the rest")
        assert not app.grid._slicing
