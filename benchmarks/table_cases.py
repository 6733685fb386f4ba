"""The table benchmark's grid data (demo hosts, real grid cells) and the three tables it drives."""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable import DataTable as ArrowTable

from clustertop.model import HostSnapshot
from clustertop.sources.demo.source import DemoSource
from clustertop.ui.columns import GRID_COLUMNS, GridContext, host_row
from clustertop.ui.grid_analysis import TREND_COLUMN
from clustertop.ui.screens.grid import HostGridTable
from clustertop.ui.widgets.cells import Cell
from clustertop.ui.widgets.charts import sparkline
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData

SPECS: tuple[ColumnSpec, ...] = (*GRID_COLUMNS, TREND_COLUMN)
"""The grid's columns with the analysis' GPU·1h sparkline, as the app shows them."""
_TREND_STYLE = Style(color="green")
_TREND_WIDTH = 10
_DEMO_HOSTS = 24
_SCREEN_WIDTH = 160
_SCROLLBAR = 2
_PADDING = 2


def grid_ticks(hosts: int, ticks: int) -> list[list[RowData]]:
    """`ticks` successive grids of `hosts` demo hosts (copies of the 24-host demo cluster with
    other seeds), each row built by the grid's own `host_row` plus a moving GPU sparkline."""
    sources = [DemoSource(seed=7 + k, frozen=True) for k in range(-(-hosts // _DEMO_HOSTS))]
    trends: dict[str, deque[float | None]] = {}
    grids = []
    for tick in range(ticks):
        snaps = [
            dataclasses.replace(snap, name=f"{snap.name}-r{k:02d}")
            for k, source in enumerate(sources)
            for snap in source.snapshots(tick)
        ][:hosts]
        now = sources[0].clock()
        grids.append([_row(snap, rank, now, trends) for rank, snap in enumerate(snaps)])
    return grids


def _row(
    snap: HostSnapshot, rank: int, now: float, trends: dict[str, deque[float | None]]
) -> RowData:
    row = host_row(snap, GridContext(now, 2.0, frozenset(), rank))
    utils = [gpu.util_percent for gpu in snap.gpus if gpu.util_percent is not None]
    history = trends.setdefault(snap.name, deque([None] * _TREND_WIDTH, _TREND_WIDTH))
    history.append(sum(utils) / len(utils) if utils else None)
    known = [value for value in history if value is not None]
    if known:
        trend = Cell(sparkline(list(history), 100.0), _TREND_STYLE, (sum(known) / len(known),))
    else:
        trend = Cell("-", "dim")
    return RowData(row.key, (*row.cells, trend), snap)


def fitting(specs: Sequence[ColumnSpec], rows: Sequence[RowData]) -> tuple[ColumnSpec, ...]:
    """The columns a 160-column grid shows (KeyedTable's rule: highest `drop` hidden first), so
    every table gets the same ones."""
    widths = {
        spec.key: _PADDING
        + (spec.width or max(len(spec.label), *(row.cells[i].cell_len for row in rows)))
        for i, spec in enumerate(specs)
    }
    shown = list(specs)
    for spec in sorted((s for s in specs if s.drop), key=lambda s: -s.drop):
        if sum(widths[s.key] for s in shown) + _SCROLLBAR <= _SCREEN_WIDTH:
            break
        shown.remove(spec)
    return tuple(shown)


def project(rows: Sequence[RowData], specs: Sequence[ColumnSpec]) -> list[RowData]:
    """`rows` with only the cells of `specs` (a subset of SPECS, in order)."""
    index = [[spec.key for spec in SPECS].index(spec.key) for spec in specs]
    return [RowData(row.key, tuple(row.cells[i] for i in index), row.target) for row in rows]


def changed_cells(
    before: Sequence[RowData], after: Sequence[RowData]
) -> list[tuple[int, int, Cell]]:
    """(row index, column index, new cell) of every cell of `after` unlike the one in `before`,
    by the test KeyedTable uses."""
    return [
        (r, c, new)
        for r, (old_row, new_row) in enumerate(zip(before, after, strict=True))
        for c, (old, new) in enumerate(zip(old_row.cells, new_row.cells, strict=True))
        if not old.same_as(new)
    ]


class Counting:
    """Mixin: counts render_line calls, the proof that a tick really repainted the table."""

    lines_rendered = 0

    def render_line(self, y: int) -> Strip:
        """Count, then render as the table does."""
        self.lines_rendered += 1
        return super().render_line(y)  # type: ignore[misc, no-any-return]


class Table:
    """One table under test: builds its widget from the first grid, applies later grids."""

    name: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, specs: Sequence[ColumnSpec], first: Sequence[RowData]) -> None:
        self.specs = tuple(specs)
        self.first = list(first)
        self.current = {row.key: row for row in first}
        self.widget = self.build()

    def build(self) -> Widget:
        """The widget (filled with `first` by `mounted`, or built with it)."""
        raise NotImplementedError

    def mounted(self) -> None:
        """Fill the mounted widget with the first grid."""
        raise NotImplementedError

    def apply(self, rows: Sequence[RowData]) -> None:
        """Show `rows`: the same hosts in the same order, new cells."""
        raise NotImplementedError

    def changed(self, rows: Sequence[RowData]) -> list[tuple[int, int, Cell]]:
        """The cells that differ from the last grid shown, remembering `rows` as shown."""
        result = changed_cells([self.current[row.key] for row in rows], rows)
        self.current.update((row.key, row) for row in rows)
        return result

    @property
    def lines_rendered(self) -> int:
        """render_line calls so far."""
        return int(getattr(self.widget, "lines_rendered", 0))


class CountingGrid(Counting, HostGridTable):
    """clustertop's grid table (KeyedTable on FastDataTable), counted."""


class OursTable(Table):
    """(a) The app's path: HostGridTable.sync() diffs RowData and updates changed cells."""

    name = "keyed"
    label = "(a) clustertop KeyedTable / FastDataTable"

    def build(self) -> Widget:
        """The grid table, as GridScreen makes it."""
        return CountingGrid(self.specs, id="table")

    def mounted(self) -> None:
        """Fill the table (columns exist once on_mount ran)."""
        self.grid.sync(self.first)

    @property
    def grid(self) -> HostGridTable:
        """The widget, typed."""
        assert isinstance(self.widget, HostGridTable)
        return self.widget

    def apply(self, rows: Sequence[RowData]) -> None:
        """The grid's own sync (it diffs the cells itself)."""
        self.grid.sync(rows)


class CountingDataTable(Counting, DataTable[Any]):
    """Textual's DataTable, counted."""


class PlainTable(Table):
    """(b) Textual's own DataTable, update_cell() on each changed cell (same Cell objects)."""

    name = "datatable"
    label = "(b) textual DataTable, update_cell"

    def build(self) -> Widget:
        """A row-cursor, zebra, first-column-fixed DataTable, like the grid."""
        table: DataTable[Any] = CountingDataTable(cursor_type="row", zebra_stripes=True, id="table")
        table.fixed_columns = 1
        return table

    def mounted(self) -> None:
        """Columns, then rows keyed by host."""
        table = self.widget
        assert isinstance(table, DataTable)
        for spec in self.specs:
            table.add_column(spec.label, width=spec.width, key=spec.key)
        for row in self.first:
            table.add_row(*row.cells, key=row.key)

    def apply(self, rows: Sequence[RowData]) -> None:
        """update_cell by row and column key for every changed cell."""
        table = self.widget
        assert isinstance(table, DataTable)
        for r, c, cell in self.changed(rows):
            table.update_cell(rows[r].key, self.specs[c].key, cell)


class CountingArrowTable(Counting, ArrowTable):
    """textual-fastdatatable's DataTable, counted."""


class ArrowTableCase(Table):
    """(c) textual-fastdatatable on an Arrow backend: cells are Rich markup strings (Arrow holds
    no Text objects; markup is how a string cell carries colours), update_cell by index."""

    name = "fastdatatable"
    label = "(c) textual-fastdatatable 0.19.5, update_cell"
    markup = True

    def value(self, cell: Cell) -> str:
        """What the Arrow column stores for `cell`."""
        return cell.markup if self.markup else cell.plain

    def build(self) -> Widget:
        """Row cursor, zebra, first column fixed, no row labels, the grid's widths."""
        rows = self.first
        data = {
            spec.key: [self.value(row.cells[i]) for row in rows]
            for i, spec in enumerate(self.specs)
        }
        return CountingArrowTable(
            backend=ArrowBackend.from_pydict(data),
            column_labels=[spec.label for spec in self.specs],
            column_widths=[spec.width for spec in self.specs],
            show_row_labels=False,
            fixed_columns=1,
            zebra_stripes=True,
            cursor_type="row",
            id="table",
            render_markup=self.markup,
        )

    def mounted(self) -> None:
        """Nothing to add: the backend holds the rows."""

    def apply(self, rows: Sequence[RowData]) -> None:
        """update_cell(row index, column index, value) for every changed cell."""
        table = self.widget
        assert isinstance(table, ArrowTable)
        for r, c, cell in self.changed(rows):
            table.update_cell(r, c, self.value(cell))


class ArrowPlainCase(ArrowTableCase):
    """(c') The same with plain strings and markup off: fastdatatable's best case, no colours."""

    name = "fastdatatable-plain"
    label = "(c') textual-fastdatatable 0.19.5, plain text (no colours)"
    markup = False


CASES: tuple[type[Table], ...] = (OursTable, PlainTable, ArrowTableCase, ArrowPlainCase)
"""The tables compared, (a) first: ratios are to it."""
