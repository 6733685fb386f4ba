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
