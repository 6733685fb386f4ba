"""FastDataTable draws exactly what DataTable draws, and its caches never show stale cells."""

from __future__ import annotations

import itertools

import pytest
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, DuplicateKey

from clustertop.ui.widgets.cells import BAD, DIM, Cell, bar_cell, text_cell
from clustertop.ui.widgets.fast_table import FastDataTable
from clustertop.ui.widgets.table_pass import RenderPass
from clustertop.ui.widgets.table_sync import ColumnSpec, KeyedTable, RowData
from tests.ui.helpers import widget_text

COLUMNS = (
    ColumnSpec("name", "Name", 8, descending=False),
    ColumnSpec("use", "Use", 16),
    ColumnSpec("note", "Note", None, descending=False),
)


def _row(name: str, use: float, note: str) -> RowData:
    cells = (
        text_cell(name, "bold"),
        bar_cell(use, 10, 80, 90),
        Cell(note, DIM if use < 50 else BAD),
    )
    return RowData(name, cells, None)


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS)


async def test_cells_render_like_datatable_does() -> None:
    async with TableApp().run_test(size=(80, 12)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.fixed_columns = 1
        rows = [_row("short", 10, "ok"), _row("a-much-longer-name", 95, "[b]x[/b] and more")]
        rows.append(
            RowData("empty", (Cell(""), bar_cell(None, 10, 80, 90), text_cell("\x1b[2J")), None)
        )
        table.sync(rows)
        await pilot.pause()
        base = Style(color="white", bgcolor="black")
        for row, column, cursor, hover in itertools.product(
            range(2), range(3), (False, True), (False, True)
        ):
            width = table.ordered_columns[column].get_render_width(table)
            ours = table._render_cell(row, column, base, width, cursor, hover)
            theirs = DataTable._render_cell(table, row, column, base, width, cursor, hover)
            # Ours are joined where neighbours share a style (drawn the same on screen).
            theirs = [list(Segment.simplify(line)) for line in theirs]
            assert [list(line) for line in ours] == theirs, (row, column)
            assert sum(s.cell_length for s in ours[0]) == width, "cells fill their column"


async def test_rendered_lines_follow_updates_and_sorts() -> None:
    async with TableApp().run_test(size=(80, 12)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row("a", 10, "first"), _row("b", 20, "second")])
        await pilot.pause()
        assert "first" in widget_text(table)
        table.sync([_row("a", 10, "changed"), _row("b", 20, "second")])
        await pilot.pause()
        shown = widget_text(table)
        assert "changed" in shown and "first" not in shown
        table.set_sort(1)  # by use, biggest first: b above a
        await pilot.pause()
        lines = [line for line in widget_text(table).splitlines() if line.strip()]
        assert lines[1].lstrip().startswith("b") and lines[2].lstrip().startswith("a")


class _Written:
    """Screen lines the app hands to its terminal (headless runs compute them too)."""

    def __init__(self, app: App[None]) -> None:
        self.lines: set[int] = set()
        original = app._display

        def display(screen: object, update: object) -> None:
            original(screen, update)  # type: ignore[arg-type]
            if isinstance(update, ChopsUpdate):
                self.lines.update(y for y, _, _ in update.spans)
            elif isinstance(update, LayoutUpdate):
                self.lines.update(range(update.region.y, update.region.bottom))

        app._display = display  # type: ignore[method-assign]


async def test_a_changed_cell_rewrites_only_its_own_line() -> None:
    async with TableApp().run_test(size=(80, 16)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        rows = [_row(f"h{i}", 10 * i, "same") for i in range(8)]
        table.sync(rows)
        await pilot.pause()
        rows[5] = _row("h5", 50, "diff")  # also flushes a header repaint pending since the start
        table.sync(rows)
        await pilot.pause()
        written = _Written(pilot.app)
        rows[3] = _row("h3", 30, "diff")  # no wider: the column keeps its width
        table.sync(rows)
        await pilot.pause()
        lines = widget_text(table).splitlines()
        assert "diff" in lines[4] and all("diff" not in line for line in lines[:4])
        assert written.lines == {4}, "the header and the other rows stay as they are"


@pytest.mark.parametrize("width", [80, 24])  # 24: rows wider than the table, cropped
async def test_rows_drawn_in_one_pass_are_what_datatable_draws(width: int) -> None:
    async with TableApp().run_test(size=(width, 12)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row(f"h{i}", 15 * i, "x" * i) for i in range(5)])
        await pilot.pause()
        for fixed, cursor, hover, scroll in itertools.product((0, 1), (0, 3), (-1, 2), (0, 7)):
            table.fixed_columns = fixed
            table.move_cursor(row=cursor)
            table.hover_coordinate = Coordinate(hover, 0)
            table.scroll_to(x=scroll, animate=False, immediate=True)
            await pilot.pause()
            table._show_hover_cursor = hover >= 0  # as after a mouse move
            assert table.scroll_offset.x == (scroll if width < 80 else 0)
            lines = range(table.size.height)
            table._pass = RenderPass(table)
            ours = [list(table.render_line(y)) for y in lines]
            table._pass = None
            for cache in (table._row_lines, table._strips, table._cell_lines):
                cache.clear()
            theirs = [list(DataTable.render_line(table, y)) for y in lines]
            assert ours == theirs, (fixed, cursor, hover, scroll)


async def test_a_cell_that_only_sorts_differently_rewrites_nothing() -> None:
    async with TableApp().run_test(size=(80, 16)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.set_sort(1)  # by use, biggest first
        rows = [_row(f"h{i}", 10 * i, "same") for i in range(4)]
        table.sync(rows)
        await pilot.pause()
        written = _Written(pilot.app)
        rows[2] = _row("h2", 20.2, "same")  # shown " 20%" as before
        table.sync(rows)
        await pilot.pause()
        assert written.lines == set()
        rows[1] = _row("h1", 20.4, "same")  # still " 20%", but now sorts above h2
        table.sync(rows)
        await pilot.pause()
        assert table.ordered_keys() == ["h3", "h1", "h2", "h0"]
        lines = [line.split()[0] for line in widget_text(table).splitlines()[1:5]]
        assert lines == ["h3", "h1", "h2", "h0"]


class _Plain(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable[Cell](id="plain", cursor_type="row")
        yield FastDataTable(id="fast")


async def test_rows_added_at_once_are_what_add_row_adds() -> None:
    highlighted: list[str] = []

    class Tables(_Plain):
        def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
            highlighted.append(f"{event.data_table.id}:{event.row_key.value}")

    rows = [_row(f"h{i}", float(i), "x" * i) for i in range(5)]
    async with Tables().run_test(size=(80, 12)) as pilot:
        plain, keyed = pilot.app.query_one("#plain", DataTable), pilot.app.query_one(FastDataTable)
        for table in (plain, keyed):
            for spec in COLUMNS:
                table.add_column(spec.label, width=spec.width, key=spec.key)
        for row in rows:
            plain.add_row(*row.cells, key=row.key)
        keyed.add_rows_at_end([(row.key, row.cells[:2]) for row in rows])  # the last column None
        await pilot.pause()
        assert list(keyed._data) == list(plain._data)
        for key, cells in plain._data.items():
            assert list(keyed._data[key]) == list(cells)  # every column, in order
            assert list(keyed._data[key].values())[:2] == list(cells.values())[:2]
            assert keyed._data[key][ColumnKey("note")] is None
        assert keyed.rows == plain.rows
        assert dict(keyed._row_locations._forward) == dict(plain._row_locations._forward)
        assert keyed.cursor_coordinate == plain.cursor_coordinate == Coordinate(0, 0)
        assert keyed.virtual_size.height == plain.virtual_size.height
        assert sorted(highlighted) == ["fast:h0", "plain:h0"]  # the cursor's first row, once
        with pytest.raises(DuplicateKey):
            keyed.add_rows_at_end([("h3", rows[3].cells)])
        with pytest.raises(ValueError, match="More values"):
            keyed.add_rows_at_end([("h9", (*rows[3].cells, Cell("extra")))])


async def test_row_positions_are_datatable_s() -> None:
    async with TableApp().run_test(size=(80, 12)) as pilot:
        table = pilot.app.query_one(KeyedTable)
        table.sync([_row(f"h{i}", float(i * 7 % 100), "x" * i) for i in range(30)])
        table.set_sort(1)
        await pilot.pause()
        for show_header in (True, False):
            table.show_header = show_header
            assert table._total_row_height == DataTable._total_row_height.fget(table) == 30  # type: ignore[attr-defined]
            for y in range(32):
                ours = _or_error(table._get_offsets, y)
                assert ours == _or_error(DataTable._get_offsets, table, y), y
            for row in range(-1, 32):
                assert table._get_row_region(row) == DataTable._get_row_region(table, row)
                for column in range(-1, 4):
                    at = Coordinate(row, column)
                    assert table._get_cell_region(at) == DataTable._get_cell_region(table, at)
        with pytest.raises(ValueError, match="one line"):
            table.add_row(Cell("a"), key="tall", height=2)


def _or_error(call: object, *args: object) -> object:
    try:
        return call(*args)  # type: ignore[operator]
    except LookupError:
        return LookupError
