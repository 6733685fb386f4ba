"""The grid screen: one row per host, a cluster summary, sorting and filtering."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.events import ScreenResume
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from clustertop.analysis.alerts import Alert
from clustertop.model import HostSnapshot
from clustertop.ui.columns import GRID_COLUMNS, GridContext
from clustertop.ui.compositor import crop_updates_to_lines
from clustertop.ui.context import LiveContext
from clustertop.ui.grid_analysis import TREND_COLUMN, GridAnalysis
from clustertop.ui.grid_sort import SORT_KEYS
from clustertop.ui.grid_summary import SummaryCounts
from clustertop.ui.row_cache import HostRows
from clustertop.ui.screens.actions import ActionController
from clustertop.ui.widgets.cells import Cell, SortKey
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.ui.widgets.lazy_row import LazyRow
from clustertop.ui.widgets.table_sync import KeyedTable
from clustertop.util.textsafe import printable


class HostGridTable(KeyedTable):
    """The host table; Enter (a DataTable row selection) opens the host."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", id="grid.open"),
    ]

    def on_mount(self) -> None:
        """Keep host names in view when scrolling right (Textual also runs KeyedTable.on_mount)."""
        self.fixed_columns = 1


class GridScreen(Screen[None]):
    """All hosts at a glance; Enter opens one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_sort", "Sort", id="grid.sort"),
        Binding("r", "reverse_sort", "Reverse", id="grid.reverse"),
        Binding("slash", "start_filter", "Filter", id="grid.filter"),
        Binding("escape", "clear_filter", "Clear filter", id="grid.clear_filter"),
        Binding("X", "stop_stale", "Stop stale", id="grid.action.stop_stale"),
        Binding("u", "app.show_users", "Users", id="grid.users"),
        Binding("f", "app.show_free", "Free GPUs", id="grid.free"),
        Binding("a", "app.show_alerts", "Alerts", id="grid.alerts"),
        Binding("o", "app.open_shell", "Shell", id="grid.shell"),
        Binding("z", "app.zoom_history", "Zoom history", show=False, id="grid.zoom"),
    ]

    class OwnerCleared(Message):
        """Escape dropped the owner filter (the app clears it on host screens too)."""

    class OpenHost(Message):
        """The user asked for a host's detail screen."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host
            """Host name."""

    def __init__(
        self,
        live: LiveContext,
        actions: ActionController | None = None,
        owner: str | None = None,
    ) -> None:
        super().__init__()
        crop_updates_to_lines(self)  # a tick's repaint renders its changed lines only
        self.live = live
        """Snapshots, clock and the analysis."""
        self.extras = GridAnalysis(live.analysis, owner)
        """History column and alert highlights from the analysis, and the owner filter."""
        self.actions = actions
        """Runs confirmed actions; None: no action keys."""
        self.filter_text = ""
        """Current host filter (substring or @group)."""
        self._rows: dict[str, LazyRow] = {}
        self._host_rows = HostRows()
        self._stale: dict[str, frozenset[str]] = {}
        self._stale_count = 0
        self._pending: set[str] = set()
        self._counts = SummaryCounts()
        self._summary = Text()

    def compose(self) -> ComposeResult:
        """Header, summary line, hidden filter input, the host table, footer."""
        yield Header()
        yield Static(id="summary")
        yield Input(placeholder="filter: host name or @group", id="filter", compact=True)
        yield HostGridTable((*GRID_COLUMNS, *self.extras.columns), id="hosts")
        yield KeysFooter()

    @property
    def table(self) -> KeyedTable:
        """The host table."""
        return self.query_one("#hosts", KeyedTable)

    @property
    def filter_input(self) -> Input:
        """The filter box (hidden unless filtering)."""
        return self.query_one("#filter", Input)

    def on_mount(self) -> None:
        """Start with every host the store knows."""
        self.filter_input.display = False
        self.table.focus()
        self._update_sort_title()
        self.show_updates(set(self.live.store.names))

    def hosts_in_view(self) -> set[str]:
        """Hosts whose rows are on screen now, with a screenful either side."""
        if not self.is_mounted:
            return set()
        try:
            table = self.table
        except NoMatches:  # its table not composed yet, or taken down as the app ends
            return set()
        return set(table.shown_keys(margin=table.size.height))

    def show_updates(self, names: set[str]) -> None:
        """Re-render hosts `names`; deferred while another screen is on top."""
        self._pending |= names
        if self.is_current and self.is_mounted and self.is_attached:
            self._apply_pending()

    def _apply_pending(self) -> None:
        """Give the pending hosts' rows their newest snapshot, then show them. A row's cells
        are made when it is drawn or read (LazyRow, KeyedTable): a large fleet's reading makes
        the screenful of rows in view, not 5,000 (about 100 us each, a second in all)."""
        pending, self._pending = self._pending, set()
        now = self.live.clock()
        ranks = {name: rank for rank, name in enumerate(self.live.store.names)}
        for name in pending:
            self._set_row(name, now, ranks.get(name, 0))
        self._sync()

    def _set_row(self, name: str, now: float, rank: int) -> None:
        snap = self.live.store.get(name)
        if snap is None:
            return
        stale = self.live.stale(snap)
        self._stale_count += len(stale) - len(self._stale.get(name, ()))
        self._stale[name] = stale
        context = GridContext(now, self.live.interval, stale, rank)
        self.extras.note(snap)
        alerts = self.extras.alerts(name)  # as they are now, as the row was made now
        make = partial(self._cells, snap, context, alerts)
        self._rows[name] = LazyRow(name, snap, make, partial(_sort_key, self.extras, snap, context))

    def _cells(
        self, snap: HostSnapshot, context: GridContext, alerts: list[Alert]
    ) -> tuple[Cell, ...]:
        row = self._host_rows.row(snap, context)
        return self.extras.decorate(row, snap, context.now, alerts).cells

    def _sync(self) -> None:
        store = self.live.store
        shown = [self._rows[name] for name in self._visible(store.names)]
        self.table.sync(shown)
        alerts = self.live.alert_count()
        filtered = len(shown) if self.filter_text or self.extras.owner is not None else None
        summary = self._counts.text(store.all(), self._stale_count, alerts, filtered)
        if summary != self._summary:  # unchanged: no repaint at all
            self._summary = summary
            # One fixed-height line: no layout pass (that would redraw the whole screen).
            self.query_one("#summary", Static).update(summary, layout=False)

    def _visible(self, names: list[str]) -> list[str]:
        """Hosts with a row that pass the filter, in source order."""
        query = self.filter_text
        shows = self.extras.shows
        known = [name for name in names if name in self._rows and shows(name)]
        if not query:
            return known
        group_hosts = self.live.hosts_matching(query)
        if group_hosts is not None:
            return [name for name in known if name in group_hosts]
        return [name for name in known if query.lower() in name.lower()]

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.app.source.focus(None)  # type: ignore[attr-defined]
        self._apply_pending()
        # An empty, open filter box was just asked for (command palette): type into it.
        starting_filter = self.filter_input.display and not self.filter_text
        (self.filter_input if starting_filter else self.table).focus()

    @on(DataTable.RowSelected, "#hosts")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.OpenHost(event.row_key.value))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide bindings that do nothing right now."""
        if action == "clear_filter":
            owner = self.extras.owner is not None
            return bool(self.filter_text) or self.filter_input.display or owner
        if action == "stop_stale":
            return self.actions is not None and self.actions.available
        return True

    def action_stop_stale(self) -> None:
        """Offer to stop every stale container of the hosts shown."""
        if self.actions is not None:
            self.actions.stop_stale(self._visible(self.live.store.names))

    def action_cycle_sort(self) -> None:
        """Sort by the next column."""
        self.table.set_sort(self.table.next_sort_index())
        self._update_sort_title()

    def action_reverse_sort(self) -> None:
        """Reverse the current order."""
        self.table.set_sort(self.table.sort_index, not self.table.sort_reversed)
        self._update_sort_title()

    def _update_sort_title(self) -> None:
        owner = self.extras.owner
        shown = "" if owner is None else f" · owner: {printable(owner)}"
        self.sub_title = f"sorted by {self.table.sort_label()}{shown}"

    def zoom_changed(self) -> None:
        """The history on show changed (1 h, 24 h, 7 d): relabel and redraw the trend column."""
        if self.extras.analysis is None or not self.is_mounted:
            return
        self.table.relabel(TREND_COLUMN.key, self.extras.trend_label())
        self.show_updates(set(self.live.store.names))

    def set_owner(self, owner: str | None) -> None:
        """Show only hosts where `owner` has something (None: every host)."""
        self.extras.set_owner(owner, self.live.store.all())
        self._update_sort_title()
        if self.is_mounted:
            self._sync()
            self.refresh_bindings()

    def action_start_filter(self) -> None:
        """Show the filter box and type into it."""
        self.filter_input.display = True
        self.filter_input.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        """Drop the filter and hide the box; with neither, drop the owner filter."""
        if not (self.filter_text or self.filter_input.display) and self.extras.owner:
            self.post_message(self.OwnerCleared())
            return
        self.filter_input.value = ""
        self.filter_input.display = False
        self.set_filter("")
        self.table.focus()

    def set_filter(self, text: str) -> None:
        """Show only hosts matching `text` (substring of the name, or @group)."""
        self.filter_text = text.strip()
        self._sync()
        self.refresh_bindings()  # only here: the footer rebuilds itself on every call

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not self.filter_text:
            self.filter_input.display = False
        self.table.focus()
        self.refresh_bindings()

    def go_to(self, name: str) -> bool:
        """Put the cursor on host `name`, dropping a filter that hides it."""
        if not self.table.go_to(name) and self.filter_text:
            self.action_clear_filter()
        return self.table.go_to(name)


def _sort_key(
    extras: GridAnalysis, snap: HostSnapshot, context: GridContext, index: int
) -> SortKey:
    """What a host's cell in column `index` sorts by, its cells not made."""
    if index < len(SORT_KEYS):
        return SORT_KEYS[index](snap, context)
    return extras.trend_key(snap, context.now)  # the only column the analysis adds
