"""KeyedTable: keyed diffs, never clear-and-refill; value sorting; stable cursor; repaint batches."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult

from clustertop.ui.widgets.cells import Cell, na_cell, number_cell, text_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, KeyedTable, RowData
from tests.ui.helpers import host, scripted_app, wait_rows
from tests.waiting import async_wait_for

COLUMNS = (ColumnSpec("name", "Name", 10, descending=False), ColumnSpec("size", "Size", 10))


def _row(name: str, size: float | None) -> RowData:
    size_cell = na_cell() if size is None else number_cell(f"{size:.0f} B", size)
    return RowData(name, (text_cell(name), size_cell), name)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, sort_by="size")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records update_cell/add_row(s)/remove_row/_reorder calls; clear() fails the test."""
    seen: list[str] = []
    for name in ("update_cell", "add_row", "add_rows_at_end", "remove_row", "_reorder"):
        original = getattr(KeyedTable, name)

        def spy(
            self: KeyedTable, *args: Any, _name: str = name, _orig: Any = original, **kw: Any
        ) -> Any:
            seen.append(_name)
            return _orig(self, *args, **kw)

        monkeypatch.setattr(KeyedTable, name, spy)

    def no_clear(self: KeyedTable, columns: bool = False) -> KeyedTable:
        raise AssertionError("clear() must not be used")

    monkeypatch.setattr(KeyedTable, "clear", no_clear)
    return seen


async def test_sync_diffs_rows_and_cells(calls: list[str]) -> None:
    async with TableApp().run_test() as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row("a", 1), _row("b", 3), _row("c", 2)])
        assert table.ordered_keys() == ["b", "c", "a"]  # size, biggest first
        calls.clear()
        table.sync([_row("a", 1), _row("b", 3), _row("c", 2)])
        assert calls == []  # nothing changed, nothing touched
        table.sync([_row("a", 1), _row("b", 3), _row("c", 2.4)])
        assert calls == ["update_cell"]  # one cell, same order: no re-sort
        calls.clear()
        table.sync([_row("a", 9), _row("c", 2), _row("d", None)])
        changes = ["_reorder", "add_rows_at_end", "remove_row", "update_cell", "update_cell"]
        assert sorted(calls) == changes
        assert table.ordered_keys() == ["a", "c", "d"]  # unknown sizes sort last
        table.set_sort(1, reverse=True)
        assert table.ordered_keys() == ["c", "a", "d"]  # still last when reversed


async def test_cursor_follows_its_row_through_reorders() -> None:
    async with TableApp().run_test() as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row("a", 1), _row("b", 2), _row("c", 3)])
        table.move_cursor(row=2)
        assert table.cursor_key == "a"
        table.sync([_row("a", 10), _row("b", 2), _row("c", 3)])
        assert table.ordered_keys()[0] == "a" and table.cursor_key == "a"
        table.sync([_row("b", 2), _row("c", 3)])  # the cursor's row is gone: cursor stays in range
        assert table.cursor_key in {"b", "c"}


async def test_repeated_keys_get_a_suffix() -> None:
    async with TableApp().run_test() as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row("same", 1), _row("same", 2)])
        assert sorted(table.ordered_keys()) == ["same", "same#2"]


def test_cells_compare_style_and_sort_value_not_just_text() -> None:
    assert not Cell("5", "red", (5.0,)).same_as(Cell("5", "green", (5.0,)))
    assert not Cell("5", "", (5.0,)).same_as(Cell("5", "", (6.0,)))
    assert Cell("5", "red", (5.0,)).same_as(Cell("5", "red", (5.0,)))


async def test_a_burst_of_snapshots_is_one_repaint(monkeypatch: pytest.MonkeyPatch) -> None:
    names = [f"h{n:03d}" for n in range(200)]
    app, source = scripted_app([host(name) for name in names])
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_rows(app.grid.table, 200)
        await pilot.pause()
        batches: list[int] = []
        original = app.grid.show_updates

        def counting(names: set[str]) -> None:
            batches.append(len(names))
            original(names)

        monkeypatch.setattr(app.grid, "show_updates", counting)
        for name in names:
            source.emit(host(name, cpu=55.0))
        await async_wait_for(lambda: sum(batches) == 200, what="all 200 hosts repainted")
        assert len(batches) == 1
