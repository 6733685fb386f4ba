"""One compositor pass over a FastDataTable: what DataTable looks up per line, looked up once."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual._segment_tools import line_crop
from textual.coordinate import Coordinate
from textual.strip import Strip
from textual.widgets import DataTable

from clustertop.ui.widgets.cells import Cell

Lines = list[list[Segment]]
"""Segments of cells (one list per cell) or of a cell's lines."""
RowPair = tuple[Lines, Lines]
"""A row's line: its fixed cells' segments and its scrollable cells' segments."""
_MOST_STYLES = 1024
"""Canonical styles kept per table (a grid meets a few dozen: row kinds, cursor, hover)."""


class RenderPass:
    """Styles, widths and offsets of one `render_lines` call (nothing changes during it).

    DataTable (Textual 8.2) computes each of these per rendered line, and a row's rich styles
    walk the DOM each time: on a live grid most of a changed row's cost. `row_lines` is
    DataTable._render_line_in_row for a data row with a row cursor and no row labels, using
    these; tests/ui/test_fast_table.py checks both give the same segments.
    """

    def __init__(self, table: DataTable[Any]) -> None:
        self.table = table
        """The table being rendered."""
        self.width = table.size.width
        """Widget width."""
        self._canonical: dict[Style, Style] = getattr(table, "canonical_styles", {})
        self.base_style = self.canonical(table.rich_style)
        """The style DataTable.render_line gives every line."""
        self.cell_state = (table._show_hover_cursor, table._pseudo_class_state, table.fixed_columns)
        """What else a cell's render depends on (reactives: slow to read per cell)."""
        height = 0
        for index in range(table.fixed_rows):
            key = table._row_locations.get_key(index)
            height += table.get_row_height(key) if key is not None else 0
        self.fixed_rows_height = height + (table.header_height if table.show_header else 0)
        """Lines at the top that do not scroll."""
        columns = table.ordered_columns
        self.render_widths = [column.get_render_width(table) for column in columns]
        """Column widths, in display order."""
        self.column_keys = [column.key for column in columns]
        """Column keys, in display order (a column's index is its place here)."""
        self.widths = tuple(column.get_render_width(table) for column in table.columns.values())
        """Column widths, in the columns' own order (part of row cache keys)."""
        self.fixed_width = sum(self.render_widths[: table.fixed_columns])
        """Width of the fixed columns."""
        self.cells_width = sum(self.render_widths)
        """Width of a row's cells (every cell is drawn exactly as wide as its column)."""
        self.plain_rows = not table._should_render_row_labels
        """True when `row_lines` may draw the table's rows (no row labels)."""
        self.fixed_columns = table.fixed_columns
        """Columns that do not scroll (a reactive: slow to read per row)."""
        self._used = sum(self.render_widths[self.fixed_columns :]) + table._row_label_column_width
        self._cursor_shown = (table.show_cursor, table._show_hover_cursor)
        self._tails: dict[tuple[object, ...], Style] = getattr(table, "tail_styles", {})
        self._fixed_style: Style | None = None
        self._row_styles: dict[tuple[bool, int, Style], Style] = {}

    @property
    def fixed_style(self) -> Style:
        """Style of the fixed columns' cells."""
        if self._fixed_style is None:
            style = self.table.get_component_styles("datatable--fixed").rich_style
            self._fixed_style = self.canonical(style + Style.from_meta({"fixed": True}))
        return self._fixed_style

    def row_style(self, index: int, base_style: Style) -> Style:
        """DataTable._get_row_style, once per kind of row in this pass."""
        table = self.table
        key = (index < table.fixed_rows, index % 2 if table.zebra_stripes else -1, base_style)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = self.canonical(table._get_row_style(index, base_style))
        return style

    def _tail_style(self, index: int, row_style: Style, on_cursor: bool, hover: bool) -> Style:
        """Style of the blank past a row's last cell (row style, cursor, and the meta a click
        there carries), as DataTable makes it for each line, made once per row and state."""
        key = (index, row_style, on_cursor, hover, self._cursor_shown)
        found = self._tails.get(key)
        if found is None:
            table = self.table
            extend, _ = table._get_styles_to_render_cell(
                False, False, False, hover, on_cursor, *self._cursor_shown, False, False
            )
            meta = Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
            if len(self._tails) > _MOST_STYLES * 8:
                self._tails.clear()
            found = self._tails[key] = row_style + extend + meta
        return found

    def canonical(self, style: Style) -> Style:
        """The table's one object equal to `style`: render caches keyed on styles then find
        their keys by identity (a new pass's equal style compared field by field each time)."""
        if len(self._canonical) > _MOST_STYLES:  # a bound, should styles ever keep changing
            self._canonical.clear()
        return self._canonical.setdefault(style, style)

    def row_lines(
        self,
        index: int,
        line_no: int,
        base_style: Style,
        cursor: Coordinate,
        hover: Coordinate,
    ) -> RowPair:
        """Line `line_no` of the data row at `index`, drawn as DataTable draws it."""
        on_cursor, on_hover = cursor.row == index, hover.row == index
        widths = self.render_widths
        render_cell = self._cell_renderer(index)
        fixed: Lines = []
        for column in range(self.fixed_columns):
            lines = render_cell(
                index, column, self.fixed_style, widths[column], on_cursor, on_hover
            )
            fixed.append(lines[line_no])
        row_style = self.row_style(index, base_style)
        scrollable: Lines = [
            render_cell(index, column, row_style, width, on_cursor, on_hover)[line_no]
            for column, width in enumerate(widths)
        ]
        tail = self._tail_style(index, row_style, on_cursor, hover.row == (index or 0))
        scrollable.append([Segment(" " * max(0, self.width - self._used), tail)])
        return fixed, scrollable

    def _cell_renderer(self, index: int) -> Callable[[int, int, Style, int, bool, bool], Lines]:
        """The table's _render_cell, or for a row of Cells one that takes them from the row
        looked up once (not each by row and column index, four lookups a cell)."""
        table = self.table
        render_cell: Callable[[int, int, Style, int, bool, bool], Lines] = table._render_cell
        known = getattr(table, "_known_cell", None)
        row_key = table._row_locations.get_key(index)
        row = table._data.get(row_key) if row_key is not None else None
        if known is None or row is None:
            return render_cell
        cells = [row.get(key) for key in self.column_keys]
        if not all(isinstance(cell, Cell) for cell in cells):
            return render_cell

        def render(  # noqa: PLR0917 - _render_cell's
            index: int, column: int, style: Style, width: int, cursor: bool, hover: bool
        ) -> Lines:
            return known(cells[column], index, column, style, width, cursor, hover)  # type: ignore[no-any-return]

        return render

    def line(self, pair: RowPair, x1: int, x2: int, base_style: Style) -> Strip:
        """DataTable._render_line for a row's pair: its fixed cells, then its scrollable cells
        from x1 on, `width` cells in all, simplified. DataTable crops the scrollable part at
        its start only, then measures every segment to truncate the line to the width; the
        row's length is known here (cells as wide as their columns, then the filler row_lines
        adds), so the crop cuts both ends and nothing is measured. Builds one Strip, not three
        (each builds seven caches)."""
        fixed, scrollable = pair
        fixed_line: list[Segment] = list(chain.from_iterable(fixed)) if fixed else []
        start = x1 + self.fixed_width
        if not self.plain_rows:  # row labels: lengths not known here
            cropped = line_crop(list(chain.from_iterable(scrollable)), start, x2, self.width)
            line = Segment.adjust_line_length(fixed_line + cropped, self.width, base_style)
            return Strip(Segment.simplify(line), self.width)
        total = self.cells_width + sum(cell_len(s.text) for s in scrollable[-1])
        cropped = line_crop(list(chain.from_iterable(scrollable)), start, x2, total)
        line = fixed_line + cropped
        if self.fixed_width + max(min(x2, total) - start, 0) != self.width:
            line = Segment.adjust_line_length(line, self.width, base_style)  # scrolled far right
        return Strip(Segment.simplify(line), self.width)
