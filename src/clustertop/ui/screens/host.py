"""The host screen: a header, table panes (GPUs to disks, network, ports) and the History tab."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.events import ScreenResume
from textual.widgets import Header, Input, Static, TabbedContent, TabPane, Tabs

from clustertop.analysis.history import History
from clustertop.analysis.users import owner_filter
from clustertop.model import HostSnapshot
from clustertop.ui.context import LiveContext
from clustertop.ui.host_actions import HOST_ACTIONS, applies, cancel_offered
from clustertop.ui.marks import Marks
from clustertop.ui.netio_panes import PORTS_PANE
from clustertop.ui.panes import Pane, PaneContext
from clustertop.ui.screens.actions import ActionController
from clustertop.ui.screens.disk_usage import DiskUsageCache
from clustertop.ui.screens.host_panes import (
    HISTORY_KEY,
    HOST_BINDINGS,
    PANES,
    numbered_panes,
    tab_order,
)
from clustertop.ui.screens.host_row_actions import HostRowActions
from clustertop.ui.slurm_pane import SLURM_PANE, has_slurm, show_slurm_tab
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.ui.widgets.history_pane import (
    HISTORY_ACTIONS,
    HISTORY_PANE,
    HistoryCharts,
    history_tab,
)
from clustertop.ui.widgets.host_header import header_text
from clustertop.ui.widgets.table_sync import KeyedTable
from clustertop.util.textsafe import printable


class HostScreen(HostRowActions):
    """Everything about one host, following its live updates."""

    BINDINGS: ClassVar[list[BindingType]] = HOST_BINDINGS

    def __init__(
        self,
        live: LiveContext,
        host: str = "",
        actions: ActionController | None = None,
        owner: str | None = None,
    ) -> None:
        super().__init__()
        self.owner = owner
        """Show only this person's rows (None: everyone's)."""
        self.actions = actions
        """Runs confirmed actions; None: no action keys."""
        self.marks = Marks()
        """Rows marked for a bulk action, per pane."""
        self.host = host
        """Name of the host shown (the app keeps one installed HostScreen and re-targets it)."""
        self.live = live
        """Snapshots, clock and the analysis."""
        self.filters: dict[str, str] = {pane.id: "" for pane in PANES}
        """Filter text per pane."""
        self._dirty = True
        self._header = Text()
        self.disk_usage = DiskUsageCache()
        """Finished du scans of every host shown here (this screen is re-targeted, not rebuilt)."""

    @property
    def history(self) -> History | None:
        """Per-host series for the History tab, from the analysis (None: the app runs without)."""
        return self.live.analysis.zoom.current if self.live.analysis is not None else None

    def compose(self) -> ComposeResult:
        """Header, host summary, filter box, one tab per pane, footer."""
        yield Header()
        yield Static(id="host-header")
        yield Input(placeholder="filter rows of this pane", id="pane-filter", compact=True)
        with TabbedContent(initial=f"pane-{PANES[0].id}"):
            for number, pane in numbered_panes():
                if number == HISTORY_KEY + 1:
                    yield history_tab(HISTORY_KEY, self.history)
                with TabPane(f"{number} {pane.title}", id=f"pane-{pane.id}"):
                    yield KeyedTable(pane.columns, sort_by=pane.initial_sort, id=f"table-{pane.id}")
        yield KeysFooter()

    def show_host(self, host: str) -> None:
        """Follow `host` from now on: filters cleared, cursors back to the top."""
        if host == self.host:
            return
        self.host = host
        self.filters = {pane.id: "" for pane in PANES}
        self.marks.clear()
        self._dirty = True
        if self.is_mounted:
            self.filter_input.value = ""
            self.filter_input.display = False
            self.show_snapshot()
            for pane in PANES:
                self.table_of(pane).move_cursor(row=0)
            self._update_sort_title()

    def on_mount(self) -> None:
        """Keep focus on the tables: Tab switches panes here."""
        self.query_one(Tabs).can_focus = False
        self.filter_input.display = False
        # With the action keys a roomy footer would push q and ? off an 160-column screen.
        self.query_one(KeysFooter).compact = self.actions is not None and self.actions.available
        self.show_snapshot()
        self._update_sort_title()
        self.current_table.focus()

    @property
    def filter_input(self) -> Input:
        """The filter box of the current pane."""
        return self.query_one("#pane-filter", Input)

    @property
    def current_pane(self) -> Pane:
        """The pane on show."""
        active = self.query_one(TabbedContent).active.removeprefix("pane-")
        return next((pane for pane in PANES if pane.id == active), PANES[0])

    @property
    def current_table(self) -> KeyedTable:
        """The table of the pane on show."""
        return self.table_of(self.current_pane)

    def table_of(self, pane: Pane) -> KeyedTable:
        """The table of `pane`."""
        return self.query_one(f"#table-{pane.id}", KeyedTable)

    def snapshot(self) -> HostSnapshot | None:
        """The newest snapshot of this host."""
        return self.live.store.get(self.host)

    def selected_target(self) -> object | None:
        """The model object under the cursor (Gpu, GpuProcess, Container, Process or Disk).

        Captured when called, so an action acts on what the user saw even if the table re-sorts.
        """
        row = None if self.showing_history else self.current_table.selected()
        return None if row is None else row.target

    @property
    def showing_history(self) -> bool:
        """True when the History tab is on show (no table, no row actions)."""
        tabs = self.query(TabbedContent)  # empty until composed
        return bool(tabs) and tabs.first().active == f"pane-{HISTORY_PANE}"

    def set_owner(self, owner: str | None) -> None:
        """Show only `owner`'s GPU processes, containers and processes (None: everyone's)."""
        self.owner = owner
        self._dirty = True
        if self.is_mounted:
            self._update_sort_title()
        if self.is_current and self.is_mounted and self.is_attached:
            self.show_snapshot()

    def host_changed(self) -> None:
        """The store has a new snapshot of this host; repaint now or when shown again."""
        self._dirty = True
        # A screen just pushed may not be composed yet: its on_mount shows the snapshot.
        if self.is_current and self.is_mounted and self.is_attached:
            self.show_snapshot()

    @on(ScreenResume)
    def _resumed(self) -> None:
        self.app.source.focus(self.host)  # type: ignore[attr-defined]
        if self._dirty:
            self.show_snapshot()

    def show_snapshot(self) -> None:
        """Render the newest snapshot into the header and every pane."""
        snap = self.snapshot()
        if snap is None:
            return
        self._dirty = False
        now = self.live.clock()
        header = header_text(snap, now)
        if header != self._header:
            lines_changed = len(header.plain.splitlines()) != len(self._header.plain.splitlines())
            self._header = header
            self.query_one("#host-header", Static).update(header, layout=lines_changed)
        ctx = PaneContext(
            now, self.live.stale(snap), self.live.mig_stale(snap), self.live.stale_jobs(snap)
        )
        tabs = self.query_one(TabbedContent)
        if show_slurm_tab(tabs, has_slurm(snap), f"pane-{PANES[0].id}"):
            self.refresh_bindings()  # the footer's 9 follows the tab
        if self.showing_history:
            self.query_one(HistoryCharts).show(snap, now)
        mine = owner_filter(snap, self.owner) if self.owner is not None else snap
        for number, pane in numbered_panes():
            rows = pane.rows(mine, ctx)
            self.marks.keep_only(pane.id, [row.key for row in rows])
            needle = self.filters[pane.id].lower()
            shown = [row for row in rows if needle in row.text()] if needle else rows
            self.table_of(pane).sync(self.marks.decorate(pane.id, shown))
            count = f"{len(shown)}/{len(rows)}" if needle else str(len(rows))
            label = f"{number} {pane.title} ({count})"
            tab = tabs.get_tab(f"pane-{pane.id}")
            if tab.label_text != label:
                tab.label = label

    def action_zoom(self) -> None:
        """Show the next history window (1 h, 24 h, 7 d): here and in the grid's trend."""
        self.app.action_zoom_history()  # type: ignore[attr-defined]

    def zoom_changed(self) -> None:
        """Redraw the charts from the history now on show."""
        if not self.is_mounted:
            return
        charts = self.query_one(HistoryCharts)
        charts.history = self.history
        charts.forget_drawn()
        self._dirty = True
        if self.is_current:
            self.show_snapshot()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`c` and `m` only where the pane has such a column; action keys where they apply."""
        if self.showing_history and action not in HISTORY_ACTIONS:
            return False
        if action == "zoom":  # only the History tab shows what zooming changes
            return self.showing_history and self.history is not None
        if action == "show_pane" and parameters == (SLURM_PANE,):
            return has_slurm(self.snapshot())
        if action in HOST_ACTIONS:
            available = self.actions is not None and self.actions.available
            if not (available and applies(self.current_pane.id, action, parameters)):
                return False
            return cancel_offered(action, parameters, self._cancel_refusal)
        if action == "tunnel_line":
            return self.current_pane.id == PORTS_PANE and not self.showing_history
        if action == "sort_by":
            pane = self.current_pane
            return (pane.cpu_column if parameters == ("cpu",) else pane.memory_column) is not None
        return True

    def action_show_pane(self, pane_id: str) -> None:
        """Switch to pane `pane_id`."""
        self.query_one(TabbedContent).active = f"pane-{pane_id}"

    def action_next_pane(self, step: int) -> None:
        """Switch to the next (1) or previous (-1) pane."""
        ids = tab_order(has_slurm(self.snapshot()))
        index = ids.index(HISTORY_PANE if self.showing_history else self.current_pane.id)
        self.action_show_pane(ids[(index + step) % len(ids)])

    @on(TabbedContent.TabActivated)
    def _pane_shown(self) -> None:
        history = self.showing_history
        text = "" if history else self.filters[self.current_pane.id]
        self.filter_input.value = text
        self.filter_input.display = bool(text)
        if history:
            self.query_one("#history-scroll").focus()
            self.show_snapshot()
        else:
            self.current_table.focus()
        self._update_sort_title()
        self.refresh_bindings()

    def action_cycle_sort(self) -> None:
        """Sort the pane by its next column."""
        table = self.current_table
        table.set_sort(table.next_sort_index())
        self._update_sort_title()

    def action_reverse_sort(self) -> None:
        """Reverse the pane's order."""
        table = self.current_table
        table.set_sort(table.sort_index, not table.sort_reversed)
        self._update_sort_title()

    def action_sort_by(self, what: str) -> None:
        """Sort by the pane's CPU or memory column, biggest first."""
        pane = self.current_pane
        column = pane.cpu_column if what == "cpu" else pane.memory_column
        keys = [spec.key for spec in pane.columns]
        if column in keys:
            self.current_table.set_sort(keys.index(column))
            self._update_sort_title()

    def _update_sort_title(self) -> None:
        table = self.current_table
        shown = "history" if self.showing_history else f"sorted by {table.sort_label()}"
        owner = "" if self.owner is None else f" · owner: {printable(self.owner)}"
        self.sub_title = f"{printable(self.host)} · {shown}{owner}"

    def action_start_filter(self) -> None:
        """Filter the current pane's rows by a substring."""
        self.filter_input.display = True
        self.filter_input.focus()

    @on(Input.Changed, "#pane-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filters[self.current_pane.id] = event.value.strip()
        self.show_snapshot()

    @on(Input.Submitted, "#pane-filter")
    def _filter_submitted(self) -> None:
        self.filter_input.display = bool(self.filters[self.current_pane.id])
        self.current_table.focus()

    def action_back(self) -> None:
        """Clear the pane's filter first; with no filter, go back to the grid."""
        if self.filter_input.display or self.filters[self.current_pane.id]:
            self.filters[self.current_pane.id] = ""
            self.filter_input.value = ""
            self.filter_input.display = False
            self.show_snapshot()
            self.current_table.focus()
        else:
            self.dismiss()
