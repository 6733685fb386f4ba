"""The frame the cluster-wide views share: a summary line, one keyed table, live refresh."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from clustertop.analysis.live import ClusterAnalysis
from clustertop.ui.context import LiveContext
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.ui.widgets.table_sync import ColumnSpec, KeyedTable, RowData

SORT_BINDINGS: list[BindingType] = [
    Binding("s", "cycle_sort", "Sort", id="view.sort"),
    Binding("r", "reverse_sort", "Reverse", id="view.reverse"),
]
"""Sorting keys, for the views whose rows may be sorted by any column."""


class ClusterView(Screen[None]):
    """A cluster-wide table that follows live updates while it is on show; Escape goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="view.back"),
    ]
    COLUMNS: ClassVar[tuple[ColumnSpec, ...]] = ()
    """The table's columns."""
    SORT_BY: ClassVar[str | None] = None
    """Column the rows are first ordered by (None: the first)."""
    VIEW_TITLE: ClassVar[str] = ""
    """Shown in the header."""

    class OpenHost(Message):
        """The user asked for a host's detail screen from a view."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host
            """Host name."""

    def __init__(self, live: LiveContext) -> None:
        super().__init__()
        self.live = live
        """Snapshots, clock and the analysis."""
        self._dirty = True
        self._summary = Text()

    @property
    def analysis(self) -> ClusterAnalysis | None:
        """Alerts, history and thresholds, from the context (None: the app runs without)."""
        return self.live.analysis

    def compose(self) -> ComposeResult:
        """Header, summary line, the table, footer."""
        yield Header()
        yield Static(classes="view-summary")
        yield KeyedTable(self.COLUMNS, sort_by=self.SORT_BY, id="view-table")
        yield KeysFooter()

    @property
    def table(self) -> KeyedTable:
        """The view's table."""
        return self.query_one("#view-table", KeyedTable)

    def on_mount(self) -> None:
        """Fill the table and put the cursor in it."""
        self.sub_title = self.VIEW_TITLE
        self.table.focus()
        self.refresh_view()

    def show_updates(self) -> None:
        """New snapshots arrived: re-render now if on show, else when shown again."""
        self._dirty = True
        if self.is_current and self.is_mounted and self.is_attached:
            self.refresh_view()

    @on(ScreenResume)
    def _resumed(self) -> None:
        if self._dirty:
            self.refresh_view()

    def refresh_view(self) -> None:
        """Rebuild rows and summary from the newest snapshots; only changed cells repaint."""
        self._dirty = False
        rows, summary = self.build()
        self.table.sync(rows)
        if summary != self._summary:
            self._summary = summary
            self.query_one(".view-summary", Static).update(summary)

    def build(self) -> tuple[list[RowData], Text]:
        """The rows and the summary line (each view fills this in)."""
        raise NotImplementedError

    def selected(self) -> RowData | None:
        """The row under the cursor."""
        return self.table.selected()

    @on(DataTable.RowSelected, "#view-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        row = self.selected()
        if row is not None:
            self.chosen(row)

    def action_choose(self) -> None:
        """Enter: act on the row under the cursor (views bind it with priority over the table)."""
        row = self.selected()
        if row is not None:
            self.chosen(row)

    def chosen(self, row: RowData) -> None:
        """Enter or a click on `row` (views override; by default nothing happens)."""

    def action_back(self) -> None:
        """Back to the screen underneath."""
        self.dismiss()

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.table.set_sort(self.table.next_sort_index())
        self._update_sort_title()

    def action_reverse_sort(self) -> None:
        """Reverse the current order."""
        self.table.set_sort(self.table.sort_index, not self.table.sort_reversed)
        self._update_sort_title()

    def _update_sort_title(self) -> None:
        self.sub_title = f"{self.VIEW_TITLE} · sorted by {self.table.sort_label()}"
