"""The host screen's History tab: CPU, memory, traffic, disk I/O and each GPU over time."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.widgets import Static, TabPane

from clustertop.analysis.history import History, Metric
from clustertop.model import Gpu, HostSnapshot
from clustertop.ui.widgets.cells import DIM
from clustertop.ui.widgets.charts import (
    Columns,
    aligned_end,
    column_chart,
    column_span,
    resample,
    time_axis,
)
from clustertop.util.textsafe import printable
from clustertop.util.units import human_bytes, percent, rate, used_of

LABEL_WIDTH = 20
"""Cells left of each chart for its title and figures."""
_MIN_CHART = 10
_HOST_HEIGHT = 3
_GPU_HEIGHT = 2
_CPU = Style(color="cyan")
_MEMORY = Style(color="magenta")
_GPU_UTIL = Style(color="green")
_GPU_MEMORY = Style(color="blue")
_RATES = (
    ("Net receive", Metric.NET_RX, Style(color="yellow")),
    ("Net send", Metric.NET_TX, Style(color="bright_yellow")),
    ("Disk read", Metric.DISK_READ, Style(color="bright_cyan")),
    ("Disk write", Metric.DISK_WRITE, Style(color="bright_magenta")),
)
"""Charts of the host's rates: title, series, colour (each scaled to its own peak)."""


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart: what it is called, its values per column, its scale and how figures read."""

    title: str
    """Our own words plus a GPU index: never host text unescaped."""
    values: Columns
    """One value per column, oldest first."""
    top: float
    """The value that fills a column (100 for percentages, the total for memory)."""
    height: int
    """Lines tall."""
    style: Style
    """Colour of the bars."""
    shown: Callable[[float | None], str]
    """How a value reads in the label ('34%', '12.0/80.0 GiB')."""


def _last(values: Columns) -> float | None:
    return next((value for value in reversed(values) if value is not None), None)


def _chart_text(chart: Chart) -> Text:
    known = [value for value in chart.values if value is not None]
    peak = f"max {chart.shown(max(known) if known else None)}"
    labels = [
        Text(chart.title, "bold"),
        Text(f"now {chart.shown(_last(chart.values))}"),
        Text(peak, DIM),
    ][: chart.height]
    if chart.height == 2 and labels[1].cell_len + len(peak) + 3 < LABEL_WIDTH:
        labels[1].append(f" · {peak}", DIM)  # two lines: the peak joins the current value
    lines = []
    bars_lines = column_chart(chart.values, chart.top, chart.height)
    for label, bars in zip(labels, bars_lines, strict=True):
        label.truncate(LABEL_WIDTH - 1, pad=True)
        lines.append(Text.assemble(label, " ", (bars, chart.style)))
    return Text("\n").join(lines)


def _memory_shown(total: float | None) -> Callable[[float | None], str]:
    def shown(value: float | None) -> str:
        if value is None:
            return "N/A"
        return used_of(int(value), int(total)) if total else human_bytes(value)

    return shown


def host_charts(
    history: History, snap: HostSnapshot, end: float, span: float, width: int
) -> list[Chart]:
    """CPU and memory of the host, its traffic and disk I/O (when it reports them), then
    utilisation and memory of each GPU it has history of."""
    host = snap.name

    def values(metric: Metric, uuid: str | None = None) -> Columns:
        return resample(history.series(host, metric, uuid), end, span, width)

    memory_total = snap.memory.total if snap.memory else None
    memory = values(Metric.MEMORY)
    charts = [
        Chart("CPU", values(Metric.CPU), 100.0, _HOST_HEIGHT, _CPU, percent),
        Chart(
            "Memory",
            memory,
            float(memory_total or max((v for v in memory if v is not None), default=0.0)),
            _HOST_HEIGHT,
            _MEMORY,
            _memory_shown(memory_total),
        ),
    ]
    if history.has_rates(host):
        charts += [_rate_chart(title, values(metric), style) for title, metric, style in _RATES]
    gpus = {gpu.uuid: gpu for gpu in snap.gpus if gpu.uuid}
    for uuid in sorted(history.gpu_uuids(host), key=lambda u: _gpu_order(gpus.get(u))):
        gpu = gpus.get(uuid)
        name = f"GPU {gpu.index}" if gpu else f"GPU {printable(uuid)[:12]}"
        total = gpu.memory_total if gpu else None
        util = values(Metric.GPU_UTIL, uuid)
        used = values(Metric.GPU_MEMORY, uuid)
        top = float(total or max((v for v in used if v is not None), default=0.0))
        charts += [
            Chart(f"{name} util", util, 100.0, _GPU_HEIGHT, _GPU_UTIL, percent),
            Chart(f"{name} memory", used, top, _GPU_HEIGHT, _GPU_MEMORY, _memory_shown(total)),
        ]
    return charts


def _rate_chart(title: str, values: Columns, style: Style) -> Chart:
    """Bytes per second, scaled to the window's peak (traffic has no natural top)."""
    top = max((v for v in values if v is not None), default=0.0)
    return Chart(title, values, top, _HOST_HEIGHT, style, rate)


def _gpu_order(gpu: Gpu | None) -> float:
    """GPUs on show by index; GPUs only in the history (gone since) after them."""
    return math.inf if gpu is None else float(gpu.index)


def history_text(history: History | None, snap: HostSnapshot, now: float, width: int) -> Text:
    """Every chart of the host, one blank line apart, with a time axis under them."""
    if history is None:
        return Text("No history: this view runs without the analysis layer.", DIM)
    chart_width = max(width - LABEL_WIDTH, _MIN_CHART)
    span = column_span(history.window_s, chart_width)
    end = aligned_end(now, span)
    charts = host_charts(history, snap, end, span, chart_width)
    if not any(value is not None for chart in charts for value in chart.values):
        return Text("No readings of this host yet: charts fill in as readings arrive.", DIM)
    blocks = [_chart_text(chart) for chart in charts]
    axis = Text(" " * LABEL_WIDTH + time_axis(chart_width, history.window_s), DIM)
    return Text("\n\n").join([*blocks, axis])


class HistoryCharts(Static):
    """The charts of the host on show; re-rendered only when a new bucket, width or host comes."""

    DEFAULT_CSS = """
    HistoryCharts {
        height: auto;
        margin: 0 1;
    }
    """

    def __init__(self, history: History | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history = history
        """Where the series come from (None: the app runs without analysis)."""
        self._key: tuple[object, ...] | None = None
        self._last: tuple[HostSnapshot, float] | None = None

    def show(self, snap: HostSnapshot, now: float) -> None:
        """Draw `snap`'s host as of `now`, unless nothing visible changed."""
        self._last = (snap, now)
        width = self.size.width or self.app.size.width - 4
        history = self.history
        bucket = math.floor(snap.time / history.resolution_s) if history else 0
        span = column_span(history.window_s, width) if history else 1.0
        window = history.window_s if history else 0.0
        key = (snap.name, width, bucket, aligned_end(now, span), len(snap.gpus), window)
        if key == self._key:
            return
        self._key = key
        self.update(history_text(history, snap, now, width))

    def forget_drawn(self) -> None:
        """Draw again at the next show (the history on show changed)."""
        self._key = None

    def on_resize(self, event: Resize) -> None:
        """Charts are as wide as the pane: redraw at the new width."""
        if self._last is not None:
            self.show(*self._last)


HISTORY_PANE = "history"
"""Pane id of the History tab (its TabPane is `pane-history`)."""
HISTORY_ACTIONS = frozenset({"show_pane", "next_pane", "back", "zoom"})
"""Host screen actions that make sense on the History tab (the rest act on tables)."""


def history_tab(number: int, history: History | None) -> TabPane:
    """The History tab: the charts in a scrollable area (focusable, so arrows scroll it)."""
    scroll = VerticalScroll(HistoryCharts(history, id="history-charts"), id="history-scroll")
    return TabPane(f"{number} History", scroll, id=f"pane-{HISTORY_PANE}")
