"""The host screen's row actions: marks, the action keys, logs, ssh -L lines, du and scancel."""

from __future__ import annotations

from textual import on
from textual.screen import Screen
from textual.widgets import DataTable

from clustertop.actions.model import Verb
from clustertop.model import Disk, HostSnapshot
from clustertop.model.network import ListeningPort
from clustertop.ui.context import LiveContext
from clustertop.ui.marks import Marks
from clustertop.ui.panes import Pane
from clustertop.ui.screens.actions import ActionController
from clustertop.ui.screens.disk_usage import DiskUsageCache
from clustertop.ui.screens.host_extras import open_disk_usage, show_tunnel_line
from clustertop.ui.slurm_pane import SLURM_PANE
from clustertop.ui.widgets.table_sync import KeyedTable
from clustertop.util.textsafe import printable


class HostRowActions(Screen[None]):
    """What the host screen's keys do to the rows it shows (HostScreen gives panes and tables)."""

    host: str
    """Name of the host shown."""
    actions: ActionController | None
    """Runs confirmed actions; None: no action keys."""
    marks: Marks
    """Rows marked for a bulk action, per pane."""
    live: LiveContext
    """Snapshots, clock and the analysis."""
    disk_usage: DiskUsageCache
    """Finished du scans of every host shown."""

    @property
    def current_pane(self) -> Pane:
        """The pane on show."""
        raise NotImplementedError

    @property
    def current_table(self) -> KeyedTable:
        """The table of the pane on show."""
        raise NotImplementedError

    def snapshot(self) -> HostSnapshot | None:
        """The newest snapshot of this host."""
        raise NotImplementedError

    def show_snapshot(self) -> None:
        """Render the newest snapshot into the header and every pane."""
        raise NotImplementedError

    def action_act(self, verb: str) -> None:
        """Confirm, then run `verb` on the marked rows of the pane, or on the cursor row."""
        pane = self.current_pane.id
        table = self.current_table
        marked = [row.target for key in self.marks.keys(pane) if (row := table.row_data(key))]
        cursor = table.selected()
        rows = marked or ([cursor.target] if cursor else [])
        if self.actions is not None:
            self.actions.act(Verb(verb), self.host, rows, on_confirmed=lambda: self._unmark(pane))

    def _unmark(self, pane: str) -> None:
        self.marks.clear(pane)
        self.show_snapshot()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the cursor row for a bulk action, then move down (as htop does)."""
        table = self.current_table
        key = table.cursor_key
        if key is not None:
            self.marks.toggle(self.current_pane.id, key)
            self.show_snapshot()
            table.action_cursor_down()

    def action_logs(self) -> None:
        """Follow the log of the container under the cursor."""
        row = self.current_table.selected()
        if row is not None and self.actions is not None:
            self.actions.show_logs(self.host, row.target)

    def action_tunnel_line(self) -> None:
        """Copy and show the ready `ssh -L` line of the port under the cursor."""
        row = self.current_table.selected()
        if row is not None and isinstance(row.target, ListeningPort):
            show_tunnel_line(self.app, self.host, row.target)

    @on(DataTable.RowSelected)
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        """Enter on a mount of the Disks pane: what fills it."""
        row = self.current_table.selected()
        if self.current_pane.id == "disks" and row is not None and isinstance(row.target, Disk):
            event.stop()
            snap = self.snapshot()
            open_disk_usage(
                self.app,
                self.actions,
                snap,
                row.target,
                cache=self.disk_usage,
                clock=self.live.clock,
            )

    def action_stop_stale(self) -> None:
        """Offer to stop every stale container of this host."""
        if self.actions is not None:
            self.actions.stop_stale([self.host])

    def _cancel_refusal(self) -> str | None:
        """Why the job under the cursor may not be cancelled here (None: T offers scancel)."""
        row = self.current_table.selected()
        if self.actions is None or row is None:
            return None
        return self.actions.cancel_refusal(self.host, row.target, self.refresh_bindings)

    def action_cancel_refused(self) -> None:
        """T on a job the acting user may not cancel: say why."""
        if (why := self._cancel_refusal()) is not None:
            self.notify(printable(why), title="scancel", severity="warning", markup=False)

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        if self.current_pane.id == SLURM_PANE:  # T's offer follows the job under the cursor
            self.refresh_bindings()

    def action_cancel_stale(self) -> None:
        """Offer to cancel every stale Slurm job of this host."""
        if self.actions is not None:
            self.actions.cancel_stale([self.host])
