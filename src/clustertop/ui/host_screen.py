"""The host screen: a header and five panes (GPUs, GPU processes, containers, processes, disks)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.events import ScreenResume
from textual.screen import Screen
from textual.widgets import Header, Input, Static, TabbedContent, TabPane, Tabs

from clustertop.model import HostSnapshot
from clustertop.textsafe import printable
from clustertop.ui.context import LiveContext
from clustertop.ui.footer import KeysFooter
from clustertop.ui.host_header import header_text
from clustertop.ui.panes import PANES, Pane, PaneContext
from clustertop.ui.table_sync import KeyedTable

_PANES_GROUP = Binding.Group("Panes", compact=True)


def _pane_bindings() -> list[BindingType]:
    return [
        Binding(
            str(number),
            f"show_pane('{pane.id}')",
            pane.title,
            id=f"host.pane.{pane.id.replace('-', '_')}",
            group=_PANES_GROUP,
        )
        for number, pane in enumerate(PANES, start=1)
    ]


class HostScreen(Screen[None]):
    """Everything about one host, following its live updates."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *_pane_bindings(),
        Binding("tab", "next_pane(1)", "Next pane", show=False, id="host.pane.next"),
        Binding("shift+tab", "next_pane(-1)", "Previous pane", show=False, id="host.pane.previous"),
        Binding("s", "cycle_sort", "Sort", id="host.sort"),
        Binding("r", "reverse_sort", "Reverse", id="host.reverse"),
        Binding("c", "sort_by('cpu')", "By CPU", id="host.sort.cpu"),
        Binding("m", "sort_by('memory')", "By memory", id="host.sort.memory"),
        Binding("slash", "start_filter", "Filter", id="host.filter"),
        Binding("escape", "back", "Back", id="host.back"),
    ]

    def __init__(self, live: LiveContext, host: str = "") -> None:
        super().__init__()
        self.host = host
        """Name of the host shown (the app keeps one installed HostScreen and re-targets it)."""
        self.live = live
        """Snapshots and providers."""
        self.filters: dict[str, str] = {pane.id: "" for pane in PANES}
        """Filter text per pane."""
        self._dirty = True
        self._header = Text()

    def compose(self) -> ComposeResult:
        """Header, host summary, filter box, one tab per pane, footer."""
        yield Header()
        yield Static(id="host-header")
        yield Input(placeholder="filter rows of this pane", id="pane-filter", compact=True)
        with TabbedContent(initial=f"pane-{PANES[0].id}"):
            for number, pane in enumerate(PANES, start=1):
                with TabPane(f"{number} {pane.title}", id=f"pane-{pane.id}"):
                    yield KeyedTable(pane.columns, sort_by=pane.initial_sort, id=f"table-{pane.id}")
        yield KeysFooter()

    def show_host(self, host: str) -> None:
        """Follow `host` from now on: filters cleared, cursors back to the top."""
        if host == self.host:
            return
        self.host = host
        self.filters = {pane.id: "" for pane in PANES}
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
        row = self.current_table.selected()
        return None if row is None else row.target

    def host_changed(self) -> None:
        """The store has a new snapshot of this host; repaint now or when shown again."""
        self._dirty = True
        # A screen just pushed may not be composed yet: its on_mount shows the snapshot.
        if self.is_current and self.is_mounted and self.is_attached:
            self.show_snapshot()

    @on(ScreenResume)
    def _resumed(self) -> None:
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
        ctx = PaneContext(now, self.live.stale(snap))
        tabs = self.query_one(TabbedContent)
        for number, pane in enumerate(PANES, start=1):
            rows = pane.rows(snap, ctx)
            needle = self.filters[pane.id].lower()
            shown = [row for row in rows if needle in row.text()] if needle else rows
            self.table_of(pane).sync(shown)
            count = f"{len(shown)}/{len(rows)}" if needle else str(len(rows))
            label = f"{number} {pane.title} ({count})"
            tab = tabs.get_tab(f"pane-{pane.id}")
            if tab.label_text != label:
                tab.label = label

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`c` and `m` only where the pane has such a column."""
        if action == "sort_by":
            pane = self.current_pane
            return (pane.cpu_column if parameters == ("cpu",) else pane.memory_column) is not None
        return True

    def action_show_pane(self, pane_id: str) -> None:
        """Switch to pane `pane_id`."""
        self.query_one(TabbedContent).active = f"pane-{pane_id}"

    def action_next_pane(self, step: int) -> None:
        """Switch to the next (1) or previous (-1) pane."""
        index = PANES.index(self.current_pane)
        self.action_show_pane(PANES[(index + step) % len(PANES)].id)

    @on(TabbedContent.TabActivated)
    def _pane_shown(self) -> None:
        text = self.filters[self.current_pane.id]
        self.filter_input.value = text
        self.filter_input.display = bool(text)
        self.current_table.focus()
        self._update_sort_title()
        self.refresh_bindings()

    def action_cycle_sort(self) -> None:
        """Sort the pane by its next column."""
        table = self.current_table
        table.set_sort(table.sort_index + 1)
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
        self.sub_title = f"{printable(self.host)} · sorted by {self.current_table.sort_label()}"

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
