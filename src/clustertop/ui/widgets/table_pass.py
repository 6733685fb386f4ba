"""One compositor pass over a FastDataTable: what DataTable looks up per line, looked up once."""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Lines = list[list[Segment]]
"""Segments of cells (one list per cell) or of a cell's lines."""
RowPair = tuple[Lines, Lines]
"""A row's line: its fixed cells' segments and its scrollable cells' segments."""


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
        self.base_style = table.rich_style
        """The style DataTable.render_line gives every line."""
        height = 0
        for index in range(table.fixed_rows):
            key = table._row_locations.get_key(index)
            height += table.get_row_height(key) if key is not None else 0
        self.fixed_rows_height = height + (table.header_height if table.show_header else 0)
        """Lines at the top that do not scroll."""
        columns = table.ordered_columns
        self.render_widths = [column.get_render_width(table) for column in columns]
        """Column widths, in display order."""
        self.widths = tuple(column.get_render_width(table) for column in table.columns.values())
        """Column widths, in the columns' own order (part of row cache keys)."""
        self.fixed_width = sum(self.render_widths[: table.fixed_columns])
        """Width of the fixed columns."""
        self.plain_rows = not table._should_render_row_labels
        """True when `row_lines` may draw the table's rows (no row labels)."""
        self._fixed_style: Style | None = None
        self._row_styles: dict[tuple[bool, int, Style], Style] = {}

    @property
    def fixed_style(self) -> Style:
        """Style of the fixed columns' cells."""
        if self._fixed_style is None:
            style = self.table.get_component_styles("datatable--fixed").rich_style
            self._fixed_style = style + Style.from_meta({"fixed": True})
        return self._fixed_style

    def row_style(self, index: int, base_style: Style) -> Style:
        """DataTable._get_row_style, once per kind of row in this pass."""
        table = self.table
        key = (index < table.fixed_rows, index % 2 if table.zebra_stripes else -1, base_style)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = table._get_row_style(index, base_style)
        return style

    def row_lines(
        self,
        index: int,
        line_no: int,
        base_style: Style,
        cursor: Coordinate,
        hover: Coordinate,
    ) -> RowPair:
        """Line `line_no` of the data row at `index`, drawn as DataTable draws it."""
        table = self.table
        on_cursor, on_hover = cursor.row == index, hover.row == index
        widths = self.render_widths
        render_cell = table._render_cell
        fixed: Lines = []
        for column in range(table.fixed_columns):
            lines = render_cell(
                index, column, self.fixed_style, widths[column], on_cursor, on_hover
            )
            fixed.append(lines[line_no])
        row_style = self.row_style(index, base_style)
        scrollable: Lines = [
            render_cell(index, column, row_style, width, on_cursor, on_hover)[line_no]
            for column, width in enumerate(widths)
        ]
        used = sum(widths[table.fixed_columns :]) + table._row_label_column_width
        extend, _ = table._get_styles_to_render_cell(
            False,
            False,
            False,
            hover.row == (index or 0),
            on_cursor,
            table.show_cursor,
            table._show_hover_cursor,
            False,
            False,
        )
        extend = row_style + extend
        extend += Style.from_meta({"row": index, "column": 0, "out_of_bounds": True})
        scrollable.append([Segment(" " * max(0, self.width - used), extend)])
        return fixed, scrollable
