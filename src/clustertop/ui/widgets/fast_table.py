"""A DataTable whose renders are cached per cell object, so live updates redraw only what changed.

DataTable (Textual 8.2) keys its cell and row caches on one table-wide counter that every
update_cell() and sort() bumps: one changed host re-renders every visible cell through Rich's
generic Padding/Styled path. Cells here are replaced, never mutated, so the cell object is a safe
cache key; a cache miss renders a single-line Text directly. benchmarks/TABLES.md measures it on
a 160x48 grid of 500 updating hosts: DataTable costs ~2x this table's CPU per tick (50-75 ms more
per repaint) and textual-fastdatatable ~7x, so the private overrides stay: Textual is pinned to
8.2.x and tests/ui/test_fast_table.py checks the output against DataTable's own rendering.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, DuplicateKey, Row, RowKey

from clustertop.ui.widgets.cells import Cell
from clustertop.ui.widgets.table_pass import RenderPass

Lines = list[list[Segment]]
"""Rendered lines of a cell."""

_CELL_CACHE_SIZE = 8000
_ROW_CACHE_SIZE = 1000


class FastDataTable(DataTable[Cell]):
    """DataTable of single-line Cells, row cursor, with identity-keyed render caches."""

    def __init__(self, **options: Any) -> None:
        super().__init__(cursor_type="row", **options)
        self._cell_lines: LRUCache[tuple[object, ...], tuple[Cell, Lines]] = LRUCache(
            _CELL_CACHE_SIZE
        )
        self._strips: LRUCache[tuple[object, ...], tuple[object, Strip]] = LRUCache(_ROW_CACHE_SIZE)
        self._dirty_rows: set[RowKey] = set()
        self._refresh_due = False
        """True while the rows update_cell changed are repainted by the caller (sync)."""
        self._row_lines: LRUCache[tuple[object, ...], tuple[tuple[Cell, ...], Any]] = LRUCache(
            _ROW_CACHE_SIZE
        )
        self._pass: RenderPass | None = None
        self.canonical_styles: dict[Style, Style] = {}
        self.tail_styles: dict[tuple[object, ...], Style] = {}
        """Styles of the blank past each row's cells (see RenderPass._tail_style)."""
        self._cell_styles: dict[tuple[int, int, Style, Style], Style] = {}
        """One object per style met in render passes (see RenderPass.canonical)."""

    def _render_cell(  # noqa: PLR0917 - DataTable's signature
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Lines:
        """One data cell, from the cache when this very cell object was rendered here before."""
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cell: object = None  # also while a column is being added
        if row_key is not None and column_key is not None and self.rows[row_key].height == 1:
            cell = self._data[row_key][column_key]
        if not isinstance(cell, Cell):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        return self._known_cell(cell, row_index, column_index, base_style, width, cursor, hover)

    def _known_cell(  # noqa: PLR0917
        self,
        cell: Cell,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> Lines:
        """_render_cell of a one-line row's Cell already looked up (see RenderPass.row_lines)."""
        found = self._pass
        state = (
            found.cell_state
            if found is not None
            else (self._show_hover_cursor, self._pseudo_class_state, self.fixed_columns)
        )
        key = (row_index, column_index, id(cell), base_style, width, cursor, hover, state)
        cached = self._cell_lines.get(key)
        if cached is not None and cached[0] is cell:
            return cached[1]
        lines = self._draw_cell(cell, row_index, column_index, base_style, width, cursor, hover)
        self._cell_lines[key] = (cell, lines)
        return lines

    def _draw_cell(  # noqa: PLR0917
        self,
        cell: Cell,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> Lines:
        """What DataTable draws (padding, CSS styles around the cell's own), without Rich's
        generic layout path."""
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        cell_style = self._cell_style(row_index, column_index, base_style, component_style)
        pad = self.cell_padding
        inner = max(width - 2 * pad, 0)
        text: Text = cell
        if cell.cell_len > inner:
            text = cell.copy()
            text.truncate(inner, overflow="ellipsis")
        console = self.app.console
        if text.spans or not text.style:
            body = list(text.render(console))
        else:  # Text.render() drops the base style when there are no spans
            body = [Segment(text.plain, console.get_style(text.style))]
        segments = [Segment(" " * pad), *body, Segment(" " * pad)]
        filler = inner - text.cell_len
        if filler > 0:
            segments.insert(-1, Segment(" " * filler))
        styled = Segment.apply_style(segments, cell_style, post_style)
        # Joined once here (the cell is cached), not in every line its row is part of: a row's
        # line then has about half the segments to crop, measure and join (the same result).
        return [list(Segment.simplify(styled))]

    def _cell_style(self, row: int, column: int, base: Style, component: Style) -> Style:
        """base + the cell's meta (row, column: for mouse clicks) + component, as DataTable
        combines them, kept: a new meta Style per drawn cell missed Rich's combination caches
        for it and for every segment styled with it (half a changed cell's cost)."""
        key = (row, column, base, component)
        found = self._cell_styles.get(key)
        if found is None:
            if len(self._cell_styles) > _CELL_CACHE_SIZE:
                self._cell_styles.clear()
            meta = Style.from_meta({"row": row, "column": column})
            found = self._cell_styles[key] = base + meta + component
        return found

    def render_lines(self, crop: Region) -> list[Strip]:
        """One compositor pass: styles and column widths are looked up once for all its lines
        (DataTable looks them up per line, walking the DOM each time)."""
        self.prepare_lines(crop)
        self._pass = RenderPass(self)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def prepare_lines(self, crop: Region) -> None:
        """Called before the lines in `crop` are drawn (a subclass brings their rows up to
        date); nothing here."""

    def render_line(self, y: int) -> Strip:
        """DataTable's render_line, with the pass's base style and fixed-row height."""
        found = self._pass
        if found is None:
            return super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        if y >= found.fixed_rows_height:
            y += scroll_y
        return self._render_line(y, scroll_x, scroll_x + found.width, found.base_style)

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[Lines, Lines]:
        """One row's line, cached by its cell objects and whether cursor or hover is on it."""
        row = self._data.get(row_key)
        if row is None or self.cursor_type != "row":
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        index = self._row_locations.get(row_key)
        cells = tuple(row.values())
        found = self._pass
        widths = (
            found.widths
            if found is not None
            else tuple(column.get_render_width(self) for column in self.columns.values())
        )
        key = (
            row_key,
            index,
            line_no,
            base_style,
            cursor_location.row == index,
            hover_location.row == index,
            self.show_cursor,
            self._show_hover_cursor,
            self._pseudo_class_state,
            self.size.width,
            self.fixed_columns,
            tuple(map(id, cells)),
            widths,
        )
        cached = self._row_lines.get(key)
        if cached is not None and all(a is b for a, b in zip(cached[0], cells, strict=True)):
            return cached[1]  # type: ignore[no-any-return]
        if found is not None and found.plain_rows and index is not None:
            lines = found.row_lines(index, line_no, base_style, cursor_location, hover_location)
        else:
            lines = super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        self._row_lines[key] = (cells, lines)
        return lines

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        """One screen line, cached by the (cached) row render it crops."""
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:
            return super()._render_line(y, x1, x2, base_style)
        if row_key not in self._data:  # the header
            return super()._render_line(y, x1, x2, base_style)
        pair = self._render_line_in_row(
            row_key, line_no, base_style, self.cursor_coordinate, self.hover_coordinate
        )
        key = (id(pair), x1, x2, self.size.width)
        cached = self._strips.get(key)
        if cached is not None and cached[0] is pair:
            return cached[1]
        found = self._pass
        if found is None:
            strip = super()._render_line(y, x1, x2, base_style)
        else:
            strip = found.line(pair, x1, x2, base_style)
        self._strips[key] = (pair, strip)
        return strip

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Cell,
        *,
        update_width: bool = False,
    ) -> None:
        """DataTable's update_cell, repainting only the cell's row: DataTable repaints the whole
        table, so every host's tick rewrote every visible line to the terminal (the idle cost)."""
        row_key = RowKey(row_key) if isinstance(row_key, str) else row_key
        column_key = ColumnKey(column_key) if isinstance(column_key, str) else column_key
        index = self._row_locations.get(row_key)
        row = self.rows.get(row_key)
        if update_width or index is None or row is None or row.height != 1:
            super().update_cell(row_key, column_key, value, update_width=update_width)
            return
        if column_key not in self._column_locations:
            super().update_cell(row_key, column_key, value)  # raises CellDoesNotExist
            return
        row_data = self._data[row_key]
        before = row_data.get(column_key)
        row_data[column_key] = value
        self._update_count += 1  # DataTable's own caches are keyed on it
        if isinstance(before, Cell) and before.looks_like(value):
            return  # only its sort value moved (12.3 -> 12.4 ms, shown "12ms"): nothing to redraw
        if not self._dirty_rows and not self._refresh_due:
            self.call_later(self.refresh_dirty_rows)
        self._dirty_rows.add(row_key)

    def refresh_dirty_rows(self) -> None:
        """Repaint the rows update_cell changed, found by their index (every row is one line:
        DataTable.refresh_row walks every row above the one it repaints, and a pass over the
        rows cost 10 ms a reading at 5,000); rows next to each other are one region (a
        refresh each cost more than drawing their lines' cells)."""
        dirty, self._dirty_rows = self._dirty_rows, set()
        if not dirty:
            return
        columns = sum(column.get_render_width(self) for column in self.columns.values())
        width = max(self.size.width, columns + self._row_label_column_width)
        top = self.header_height if self.show_header else 0
        located = self._row_locations
        indices = sorted(index for key in dirty if (index := located.get(key)) is not None)
        start = 0
        for position, index in enumerate(indices):  # a run of indices next to each other
            if position + 1 == len(indices) or indices[position + 1] != index + 1:
                first = indices[start]
                self._refresh_region(Region(0, top + first, width, index + 1 - first))
                start = position + 1

    def add_row(
        self,
        *cells: Cell,
        height: int | None = 1,
        key: str | None = None,
        label: Text | str | None = None,
    ) -> RowKey:
        """DataTable's add_row, for one-line rows only (what the overrides below rely on)."""
        if height != 1:
            raise ValueError("a FastDataTable's rows are one line high")
        return super().add_row(*cells, height=height, key=key, label=label)

    def _get_offsets(self, y: int) -> tuple[RowKey, int]:
        """DataTable's (Textual 8.2) for one-line rows: line y is row y. DataTable lists every
        line of every row again after each cell update (5,000 rows: a few ms per reading, and
        once more for a keypress's repaint after one)."""
        if self.show_header:
            if y < self.header_height:
                return self._header_row_key, y
            y -= self.header_height
        row_key = self._row_locations.get_key(y) if y >= 0 else None
        if row_key is None:
            raise LookupError(f"Y coord {y!r} is greater than total height")
        return row_key, 0

    @property
    def _total_row_height(self) -> int:
        return self.row_count  # one line a row

    def _get_row_region(self, row_index: int) -> Region:
        """DataTable's, without adding up the heights of every row above (a cursor move
        repaints two rows: each walked up to 5,000 rows)."""
        if not self.is_valid_row_index(row_index):
            return Region(0, 0, 0, 0)
        columns = sum(column.get_render_width(self) for column in self.columns.values())
        width = max(self.size.width, columns + self._row_label_column_width)
        return Region(0, row_index + (self.header_height if self.show_header else 0), width, 1)

    def _get_cell_region(self, coordinate: Coordinate) -> Region:
        """DataTable's, for one-line rows (see _get_row_region)."""
        if not self.is_valid_coordinate(coordinate):
            return Region(0, 0, 0, 0)
        row_index, column_index = coordinate
        columns = self.ordered_columns
        x = sum(column.get_render_width(self) for column in columns[:column_index])
        width = columns[column_index].get_render_width(self)
        y = row_index + (self.header_height if self.show_header else 0)
        return Region(x + self._row_label_column_width, y, width, 1)

    def keys_between(self, start: int, stop: int) -> list[str]:
        """Keys of the rows shown at indices start..stop-1 (DataTable.ordered_rows lists every
        row: 5,000 for each screenful drawn)."""
        key_at = self._row_locations.get_key
        indices = range(max(start, 0), min(stop, self.row_count))
        return [str(row_key.value) for index in indices if (row_key := key_at(index)) is not None]

    def add_rows_at_end(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """DataTable.add_row (Textual 8.2) for many one-line rows, with the same state after,
        its per-row work done once (ordered columns, cursor, idle check) and its key check by
        hash (add_row's scans every key: `in` on a TwoWayDict). 5,000 rows at start took
        0.3-0.45 s of the main thread while the first reading was on its way."""
        if not rows:
            return
        columns = [column.key for column in self.ordered_columns]
        located, data, meta, new = self._row_locations, self._data, self.rows, self._new_rows
        first = index = self.row_count
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in data:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            located[row_key] = index
            index += 1
            data[row_key] = dict(zip_longest(columns, cells))
            meta[row_key] = Row(row_key, 1)
            new.add(row_key)
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate  # clamped (DataTable's validator)
        if first == 0 and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()  # a cell for the cursor now exists, as add_row does
        self._update_count += 1
        self.check_idle()

    def notify_style_update(self) -> None:
        """Theme or CSS changed: every cached render is stale."""
        super().notify_style_update()
        self._cell_lines.clear()
        self._row_lines.clear()
        self._strips.clear()
        self.canonical_styles.clear()
        self.tail_styles.clear()
        self._cell_styles.clear()
