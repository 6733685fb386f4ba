"""The alerts view (most urgent first, with their age) and the bell for alerts that appear."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from clustertop.analysis.alerts import Alert, AlertTracker, Severity
from clustertop.model import HostSnapshot, HostState
from clustertop.ui.screens.cluster_view import SORT_BINDINGS, ClusterView
from clustertop.ui.widgets.cells import BAD, DIM, WARN, Cell, number_cell, text_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import duration

ALERT_COLUMNS = (
    ColumnSpec("severity", "Severity", 8, descending=False),
    ColumnSpec("host", "Host", 16, descending=False),
    ColumnSpec("kind", "Kind", 15, descending=False),
    ColumnSpec("since", "Since", 7),
    ColumnSpec("message", "Message", None, descending=False, flex=True),
)
"""Alerts view columns."""

_SEVERITY_STYLES = {Severity.CRITICAL: BAD, Severity.WARNING: WARN, Severity.INFO: DIM}
AGE_REFRESH = 1.0
"""Seconds between refreshes of the shown ages while the view is open."""


def alert_row(alert: Alert, now: float) -> RowData:
    """The table row of one alert; its message is shown literally."""
    order = (float(alert.severity.rank), alert.host, alert.kind.value, alert.subject)
    age = max(now - alert.since, 0.0)
    cells = (
        Cell(str(alert.severity), _SEVERITY_STYLES[alert.severity], order),
        text_cell(alert.host, "bold"),
        Cell(str(alert.kind), sort_key=(alert.kind.value,)),
        number_cell(duration(age), age),
        text_cell(alert.message),
    )
    return RowData(alert.key, cells, alert)


class AlertsScreen(ClusterView):
    """Everything that needs attention now; Enter opens the alert's host."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open host", id="alerts.open", priority=True),
        *SORT_BINDINGS,
    ]
    COLUMNS = ALERT_COLUMNS
    VIEW_TITLE = "alerts"

    def on_mount(self) -> None:
        """Fill the table, then keep the ages moving."""
        super().on_mount()
        self.set_interval(AGE_REFRESH, self.show_updates)

    def build(self) -> tuple[list[RowData], Text]:
        """The active alerts, most urgent first."""
        alerts = self.analysis.alerts() if self.analysis is not None else []
        now = self.live.clock()
        counts = dict.fromkeys(Severity, 0)
        for alert in alerts:
            counts[alert.severity] += 1
        summary = Text("Alerts ", "bold").append(str(len(alerts)), BAD if alerts else DIM)
        for severity in Severity.CRITICAL, Severity.WARNING, Severity.INFO:
            summary.append(f"   {severity} ", "bold").append(
                str(counts[severity]), _SEVERITY_STYLES[severity] if counts[severity] else DIM
            )
        if self.analysis is None:
            summary.append("   (no analysis: alerts are off)", DIM)
        return [alert_row(alert, now) for alert in alerts], summary

    def chosen(self, row: RowData) -> None:
        """Open the host of the alert."""
        if isinstance(row.target, Alert):
            self.post_message(self.OpenHost(row.target.host))


class AlertBell:
    """Decides when to ring: an alert raised on a host that had already reported.

    Alerts present when clustertop starts (a host's first report) do not ring: the bell is
    for what changes while someone watches.
    """

    def __init__(self, tracker: AlertTracker) -> None:
        self._tracker = tracker
        self._reported: set[str] = set()

    def poll(self, snaps: Iterable[HostSnapshot]) -> list[Alert]:
        """Alerts to ring for since the last poll (draining the tracker's new alerts)."""
        fresh = self._tracker.new_since_last()
        ring = [alert for alert in fresh if alert.host in self._reported]
        self._reported.update(snap.name for snap in snaps if snap.state is not HostState.CONNECTING)
        return ring
