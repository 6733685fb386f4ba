"""A DataTable kept in step with keyed rows: diffed cell updates, stable cursor, value sorting."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.geometry import Region, Size
from textual.widgets.data_table import ColumnKey, RowDoesNotExist, RowKey

from clustertop.ui.widgets.cells import Cell, SortKey
from clustertop.ui.widgets.fast_table import FastDataTable
from clustertop.ui.widgets.lazy_row import LazyRow
from clustertop.ui.widgets.table_rows import (
    ColumnSpec,
    Row,
    RowData,
    compare_keys,
    key_text,
    unique_rows,
)
from clustertop.util.textsafe import printable

__all__ = ["ColumnSpec", "KeyedTable", "Row", "RowData"]

_SCROLLBAR = 2
_BLANK = Cell()
"""A lazy row's cells before it is made (cells are replaced, never changed: shared)."""
_MIN_FLEX = 16
NEAR_MAX_SHARE = 4
"""A sync that changed fewer than 1/NEAR_MAX_SHARE of the rows checks their order near them."""
FULL_CHECK_EVERY = 10
"""...and every so many syncs the whole order (a lazy row's key may move once it is made)."""


class KeyedTable(FastDataTable):
    """Rows are keyed by identity; `sync()` adds, updates and removes rows without clearing."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        # No description: Enter means nothing in a pane table (the grid's table overrides it).
        Binding("enter", "select_cursor", show=False, id="table.select"),
    ]

    def __init__(
        self, columns: Sequence[ColumnSpec], *, sort_by: str | None = None, id: str | None = None
    ) -> None:
        super().__init__(zebra_stripes=True, id=id)
        self.specs: tuple[ColumnSpec, ...] = tuple(columns)
        """Column definitions, in display order."""
        keys = [spec.key for spec in self.specs]
        self.sort_index = keys.index(sort_by) if sort_by in keys else 0
        """Index of the column rows are ordered by."""
        self.sort_reversed = False
        """True when the user reversed the column's natural direction."""
        self._rows: dict[str, Row] = {}
        self._drawn: dict[str, Row] = {}
        """The row whose cells the DataTable holds, by key: `_rows`' own but for those behind."""
        self._behind: set[str] = set()
        """Keys of lazy rows not made yet: the DataTable holds an older row's cells, brought up
        to date when the row is drawn or its cells are read (`_catch_up`)."""
        self._flex_width: int | None = None
        self._syncs = 0
        self.shown: tuple[int, ...] = tuple(range(len(self.specs)))
        """Indices of the specs shown as columns (narrow tables hide some, see `drop`)."""

    def on_mount(self) -> None:
        """Create the columns once; rows come later through `sync()`."""
        self._add_columns()

    def _add_columns(self) -> None:
        for index in self.shown:
            spec = self.specs[index]
            width = (spec.width or _MIN_FLEX) if spec.flex else spec.width
            self.add_column(Text(spec.label), width=width, key=spec.key)

    def _shown_cells(self, row: Row) -> tuple[Cell, ...]:
        if len(self.shown) == len(self.specs):
            return row.cells
        return tuple(row.cells[index] for index in self.shown)

    @property
    def cursor_key(self) -> str | None:
        """Identity of the row under the cursor, or None in an empty table."""
        if not self.rows or not self.is_valid_row_index(self.cursor_row):
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def row_data(self, key: str) -> RowData | None:
        """The row shown under `key` (a lazy row's cells made now)."""
        row = self._rows.get(key)
        if row is None or isinstance(row, RowData):
            return row
        return RowData(row.key, row.cells, row.target)

    def selected(self) -> RowData | None:
        """The row under the cursor, as shown when the method was called."""
        key = self.cursor_key
        return None if key is None else self.row_data(key)

    def ordered_keys(self) -> list[str]:
        """Row identities in display order."""
        return [str(row.key.value) for row in self.ordered_rows]

    def shown_keys(self, margin: int = 0) -> list[str]:
        """Identities of the rows in view (and `margin` rows either side), top to bottom."""
        top = max(0, int(self.scroll_offset.y) - margin)  # one row a line: no wrapping
        return self.keys_between(top, top + self.size.height + 2 * margin)

    def sync(self, rows: Sequence[Row]) -> None:
        """Show exactly `rows`: new keys added, gone keys removed, changed cells updated (a
        LazyRow's when it is in view, drawn or read: until then it is only `behind`)."""
        cursor_key = self.cursor_key
        wanted = unique_rows(rows)
        gone = [key for key in self._rows if key not in wanted]
        for key in gone:
            self.remove_row(key)
            del self._rows[key], self._drawn[key]
            self._behind.discard(key)
        added: list[tuple[str, tuple[Cell, ...]]] = []
        changed: list[str] = []
        behind = self._behind
        # Changed rows are repainted below: no callback of update_cell's for each sync.
        self._refresh_due = True
        try:
            for key, row in wanted.items():
                old = self._rows.get(key)
                if old is row:
                    continue
                self._rows[key] = row
                changed.append(key)
                if old is None:
                    drawn = self._drawn[key] = self._first_look(row)
                    added.append((key, self._shown_cells(drawn)))
                    if drawn is not row:
                        behind.add(key)
                elif isinstance(row, LazyRow) and not row.built:
                    behind.add(key)
                else:
                    self._bring_up(key)
            if added:  # in one go: 5,000 add_row calls took 0.3-0.45 s
                self.add_rows_at_end(added)
            if behind:  # the rows on screen now, so that their repaint below shows them
                self._catch_up(self.shown_keys())
        finally:
            self._refresh_due = False
        if added and self.size.width:  # a new, longer host name may leave less room
            self._fit_columns(self.size.width)
        self.refresh_dirty_rows()  # now, inside the caller's batch
        self._syncs += 1
        near = (
            not added
            and not gone
            and len(changed) * NEAR_MAX_SHARE < len(self._rows)
            and self._syncs % FULL_CHECK_EVERY != 0
        )
        if not (self._in_order_near(changed) if near else self._in_order()):
            self._reorder()
        self._follow(cursor_key, scroll=False)

    def _first_look(self, row: Row) -> Row:
        """What a new row enters the DataTable with: itself, or for a lazy row not made yet
        its key in the content-sized columns (their width) and blanks elsewhere, made when
        drawn or read as rows behind are (a 5,000-host grid's first rows: 60 ms of cells)."""
        if not isinstance(row, LazyRow) or row.built:
            return row
        key = Cell(printable(row.key))
        cells = tuple(
            key if spec.width is None and not spec.flex else _BLANK for spec in self.specs
        )
        return RowData(row.key, cells, row.target)

    def _bring_up(self, key: str) -> None:
        """Give the DataTable row `key`'s newest cells (those that changed)."""
        row = self._rows[key]
        self._update_changed(self._drawn[key], row)
        self._drawn[key] = row
        self._behind.discard(key)

    def _catch_up(self, keys: Iterable[str]) -> None:
        """Make the rows of `keys` that are behind and bring them up to date."""
        behind = self._behind
        for key in keys:
            if key in behind:
                self._bring_up(key)

    def prepare_lines(self, crop: Region) -> None:
        """Before the rows in `crop` are drawn: the lazy ones among them are made, in place
        (no repaint asked for: they are being drawn)."""
        if not self._behind:
            return
        header = self.header_height if self.show_header else 0
        top = int(self.scroll_offset.y) + max(crop.y - header, 0)
        keys = [*self.keys_between(0, self.fixed_rows), *self.keys_between(top, top + crop.height)]
        due, self._refresh_due = self._refresh_due, True
        try:
            self._catch_up(keys)
        finally:
            self._refresh_due = due
        self._dirty_rows.difference_update(RowKey(key) for key in keys)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """DataTable's (Textual 8.2), for this table's rows (one line, no label, a Cell per
        column): only the columns sized to their content are measured, by their cells' length
        (DataTable measures every cell of every new row through Rich, about half a second for
        a 5,000-host grid's first rows, while the first reading was on its way)."""
        auto = [column for column in self.ordered_columns if column.auto_width]
        data, located = self._data, self._row_locations
        for row_key in new_rows:
            cells = data.get(row_key)
            if cells is None or row_key not in located:  # removed before this ran
                continue
            for column in auto:
                cell = cells.get(column.key)
                if cell is not None:
                    column.content_width = max(column.content_width, cell.cell_len)
        widths = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            widths + self._row_label_column_width, self._total_row_height + header
        )

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Cell:
        """The cell as drawn now (a lazy row is made first)."""
        self._catch_up((key_text(row_key),))
        return super().get_cell(row_key, column_key)

    def get_row(self, row_key: RowKey | str) -> list[Cell]:
        """The row's cells as drawn now (a lazy row is made first)."""
        self._catch_up((key_text(row_key),))
        return super().get_row(row_key)

    def next_sort_index(self) -> int:
        """The shown column after the one rows are ordered by (wrapping round)."""
        for step in range(1, len(self.specs) + 1):
            index = (self.sort_index + step) % len(self.specs)
            if index in self.shown:
                return index
        return self.sort_index

    def set_sort(self, index: int, reverse: bool = False) -> None:
        """Order rows by column `index`; the cursor stays on the same row identity."""
        cursor_key = self.cursor_key
        self.sort_index = index % len(self.specs)
        self.sort_reversed = reverse
        self._reorder()
        self._follow(cursor_key, scroll=True)

    def sort_label(self) -> str:
        """'CPU ▼' style description of the current order."""
        spec = self.specs[self.sort_index]
        arrow = "▼" if spec.descending != self.sort_reversed else "▲"
        return f"{spec.label} {arrow}"

    def go_to(self, key: str) -> bool:
        """Put the cursor on row `key`; False when it is not shown."""
        return self._follow(key, scroll=True)

    def _update_changed(self, old: Row, new: Row) -> None:
        olds, news = old.cells, new.cells  # a LazyRow's cells are a property: read them once
        for index in self.shown:
            spec, before, after = self.specs[index], olds[index], news[index]
            if before is not after and not before.same_as(after):
                grow = spec.width is None and after.cell_len > self._content_width(spec.key)
                self.update_cell(new.key, spec.key, after, update_width=grow)

    def _content_width(self, column_key: str) -> int:
        return self.columns[ColumnKey(column_key)].content_width

    def _sort_keys(self, key: str) -> tuple[SortKey, SortKey]:
        """What row `key` sorts by: the sort column's key, then the first column's (a lazy
        row's without making its cells)."""
        row = self._rows[key]
        first = row.sort_key(self.sort_index)
        # Sorted by the first column (the grid's default): equal keys tie either way.
        return first, first if self.sort_index == 0 else row.sort_key(0)

    def _in_order(self) -> bool:
        keys = self.ordered_keys()
        compare = self._compare
        sort_keys = self._sort_keys
        pairs = itertools.pairwise(sort_keys(key) for key in keys)
        return all(compare(a, b) <= 0 for a, b in pairs)

    def _in_order_near(self, changed: Iterable[str]) -> bool:
        """Whether rows are in order when they were before and only `changed` rows' keys
        moved: each of those is in order with its neighbours (every other pair is as it
        was). A few hundred rows of a 5,000-host grid: the whole check was 20-30 ms."""
        locations, last = self._row_locations, len(self._data) - 1
        compare, sort_keys = self._compare, self._sort_keys
        for key in changed:
            index = locations.get(RowKey(key))
            if index is None:
                return False
            keys = sort_keys(key)
            for other, after in ((index - 1, True), (index + 1, False)):
                if other < 0 or other > last:
                    continue
                found = locations.get_key(other)
                if found is None:
                    return False
                them = sort_keys(str(found.value))
                if (compare(them, keys) if after else compare(keys, them)) > 0:
                    return False
        return True

    def _reorder(self) -> None:
        # DataTable.sort() hands its key only the shown cells; hidden columns sort too, so rows
        # are ordered by their RowData through their keys. As DataTable.sort does (Textual 8.2).
        compare = functools.cmp_to_key(self._compare)
        sort_keys = self._sort_keys
        keyed = [(compare(sort_keys(str(row_key.value))), row_key) for row_key in self._data]
        keyed.sort(key=lambda pair: pair[0])
        ordered = [row_key for _, row_key in keyed]
        self._row_locations = TwoWayDict({row_key: index for index, row_key in enumerate(ordered)})
        self._update_count += 1
        self.refresh()

    def _compare(self, a: tuple[SortKey, SortKey], b: tuple[SortKey, SortKey]) -> int:
        """Sort column first (unknown last, either direction), then the first column ascending."""
        descending = self.specs[self.sort_index].descending != self.sort_reversed
        return compare_keys(a[0], b[0], descending) or compare_keys(a[1], b[1], False)

    def _follow(self, key: str | None, *, scroll: bool) -> bool:
        if key is None:
            return False
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:
            return False
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=scroll)
        elif scroll:
            self.move_cursor(row=index, scroll=True)
        return True

    def on_resize(self, event: Resize) -> None:
        """Hide low-priority columns that do not fit; give the flex column (always last)
        whatever width the other columns leave."""
        self._fit_columns(event.size.width)
        self._fit_flex(event.size.width)

    def _spec_width(self, index: int) -> int:
        spec = self.specs[index]
        if spec.width is not None:
            content = spec.width
        else:  # sized to its content: the widest cell or the label
            cells = (row.cells[index].cell_len for row in self._drawn.values())
            content = max(len(spec.label), *cells, 0)
        return content + 2 * self.cell_padding

    def _fit_columns(self, table_width: int) -> None:
        droppable = sorted(
            (index for index, spec in enumerate(self.specs) if spec.drop > 0),
            key=lambda index: -self.specs[index].drop,
        )
        if not droppable:
            return
        shown = set(range(len(self.specs)))
        used = sum(self._spec_width(index) for index in shown) + _SCROLLBAR
        for index in droppable:
            if used <= table_width:
                break
            shown.discard(index)
            used -= self._spec_width(index)
        wanted = tuple(sorted(shown))
        if wanted == self.shown:
            return
        gone = [index for index in self.shown if index not in shown]
        narrower = set(wanted) <= set(self.shown)
        self.shown = wanted
        if not narrower:
            self._rebuild()
            return
        # Only columns to hide (a first layout, a narrower terminal): dropped in place, not
        # every row added again (5,000 rows: 0.2 s, while the first reading was on its way).
        for index in gone:
            self.remove_column(self.specs[index].key)

    def relabel(self, key: str, label: str) -> None:
        """Give column `key` a new label (the grid's trend column when the history zooms)."""
        specs = [dataclasses.replace(s, label=label) if s.key == key else s for s in self.specs]
        if tuple(specs) == self.specs:
            return
        self.specs = tuple(specs)
        if self.is_mounted:
            self._rebuild()

    def _rebuild(self) -> None:
        # Column sets have no public editor: rebuild the columns, then the rows, in order.
        cursor_key = self.cursor_key
        self.clear(columns=True)
        self._add_columns()
        for key, row in self._drawn.items():  # the DataTable's cells (lazy rows stay behind)
            self.add_row(*self._shown_cells(row), key=key)
        self._reorder()
        self._follow(cursor_key, scroll=True)

    def _fit_flex(self, table_width: int) -> None:
        flex = self.specs[-1]
        if not flex.flex:
            return
        fixed = sum(
            self.columns[ColumnKey(self.specs[index].key)].get_render_width(self)
            for index in self.shown[:-1]
        )
        width = max(_MIN_FLEX, table_width - fixed - 2 * self.cell_padding - _SCROLLBAR)
        if width == self._flex_width:
            return
        self._flex_width = width
        # Column widths have no public setter: replace the last column and refill its cells.
        self.remove_column(flex.key)
        self.add_column(Text(flex.label), width=width, key=flex.key)
        for key, row in self._drawn.items():
            self.update_cell(key, flex.key, row.cells[-1])
