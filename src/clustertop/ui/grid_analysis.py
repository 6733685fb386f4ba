"""What the analysis adds to the grid: a GPU·1h sparkline, alert highlights, an owner filter."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from rich.style import Style

from clustertop.analysis.alerts import Alert, Severity
from clustertop.analysis.history import History, Metric
from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.users import owner_has_something
from clustertop.model import HostSnapshot
from clustertop.ui.widgets.cells import DIM, Cell, SortKey
from clustertop.ui.widgets.charts import aligned_end, column_span, mean_columns, resample, sparkline
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData

TREND_WIDTH = 10
"""Characters of the GPU·1h sparkline (each one a twelfth of the history window)."""
TREND_COLUMN = ColumnSpec("gpu_trend", "GPU·1h", TREND_WIDTH, drop=4)
"""Mean GPU utilisation of the host over the history window, oldest left."""
_TREND_STYLE = Style(color="green")

ALERT_STYLES: Mapping[Severity, Style] = {
    Severity.CRITICAL: Style(color="bright_white", bgcolor="red", bold=True),
    Severity.WARNING: Style(color="black", bgcolor="yellow"),
    Severity.INFO: Style(underline=True),
}
"""How the host cell of a host with alerts looks, by its most urgent alert."""


def highlight(cell: Cell, alerts: list[Alert]) -> Cell:
    """The host cell restyled for its most urgent alert (alerts come most urgent first)."""
    if not alerts:
        return cell
    return Cell(sort_key=cell.sort_key).add(cell, ALERT_STYLES[alerts[0].severity])


def gpu_trend(history: History, host: str, now: float, width: int = TREND_WIDTH) -> Cell:
    """Sparkline of the host's mean GPU utilisation, 0-100 %, sorting by its mean."""
    uuids = history.gpu_uuids(host)
    if not uuids:
        return Cell("-", DIM)
    span = column_span(history.window_s, width)
    end = aligned_end(now, span)
    columns = mean_columns(
        [resample(history.series(host, Metric.GPU_UTIL, uuid), end, span, width) for uuid in uuids]
    )
    known = [value for value in columns if value is not None]
    if not known:
        return Cell("-", DIM)
    return Cell(sparkline(columns, 100.0), _TREND_STYLE, (sum(known) / len(known),))


class GridAnalysis:
    """Extra grid cells and row visibility from the analysis layer; cheap per repaint.

    The sparkline of a host is recomputed at most once per history bucket (and per chart
    column moving on), not on every repaint.
    """

    def __init__(self, analysis: ClusterAnalysis | None, owner: str | None = None) -> None:
        self.analysis = analysis
        """Where history and alerts come from (None: no extra column, no highlights)."""
        self.owner = owner
        """Show only hosts where this person has something (None: every host)."""
        self._owner_hosts: dict[str, bool] = {}
        self._trends: dict[str, tuple[tuple[float, int, float], Cell]] = {}

    @property
    def columns(self) -> tuple[ColumnSpec, ...]:
        """Columns added after the grid's own."""
        return (TREND_COLUMN,) if self.analysis is not None else ()

    def note(self, snap: HostSnapshot) -> None:
        """Judge `snap` for the owner filter (whether its row shows)."""
        if self.owner is not None:
            self._owner_hosts[snap.name] = owner_has_something(snap, self.owner)

    def alerts(self, host: str) -> list[Alert]:
        """The host's current alerts, most urgent first (none without the analysis)."""
        if self.analysis is None:
            return []
        return self.analysis.alert_tracker.host_alerts(host)

    def decorate(
        self, row: RowData, snap: HostSnapshot, now: float, alerts: list[Alert] | None = None
    ) -> RowData:
        """The grid row with the alert highlight (of `alerts`, or the host's current ones) and
        the added cells; the snapshot judged for the owner filter."""
        self.note(snap)
        if self.analysis is None:
            return row
        shown = self.alerts(snap.name) if alerts is None else alerts
        cells = (highlight(row.cells[0], shown), *row.cells[1:], self._trend(snap, now))
        return RowData(row.key, cells, row.target)

    def trend_key(self, snap: HostSnapshot, now: float) -> SortKey:
        """What the trend cell of `snap` sorts by (the cell is kept: made once per bucket)."""
        return self._trend(snap, now).sort_key if self.analysis is not None else None

    def _trend(self, snap: HostSnapshot, now: float) -> Cell:
        assert self.analysis is not None
        history = self.analysis.zoom.current
        end = aligned_end(now, column_span(history.window_s, TREND_WIDTH))
        key = (end, math.floor(snap.time / history.resolution_s), history.window_s)
        cached = self._trends.get(snap.name)
        if cached is not None and cached[0] == key:
            return cached[1]
        cell = gpu_trend(history, snap.name, now)
        self._trends[snap.name] = (key, cell)
        return cell

    def trend_label(self) -> str:
        """The trend column's label for the history on show ('GPU·24h')."""
        if self.analysis is None:
            return TREND_COLUMN.label
        return f"GPU·{self.analysis.zoom.label}"

    def set_owner(self, owner: str | None, snaps: Iterable[HostSnapshot]) -> None:
        """Filter to `owner` (None: no owner filter), judged on every host's newest snapshot."""
        self.owner = owner
        self._owner_hosts = (
            {snap.name: owner_has_something(snap, owner) for snap in snaps}
            if owner is not None
            else {}
        )

    def shows(self, host: str) -> bool:
        """Whether the owner filter lets `host` through."""
        return self.owner is None or self._owner_hosts.get(host, False)
