"""History in the UI: the grid's GPU·1h sparkline and the host screen's History tab."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import HostSnapshot
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.widgets.history_pane import HistoryCharts
from tests.ui.helpers import ScriptedSource, cell_text, host, until, wait_rows, widget_text
from tests.views.helpers import SIZE, demo_app, grid_ready, open_host

WIDE = (180, 48)
"""Wide enough for the grid's last column, the sparkline, with room to spare."""
END = 1_700_000_280.0
"""A clock on a whole 6-minute column boundary, so each of the 10 columns is one 6-minute span."""


def _idle_then_busy(name: str) -> list[HostSnapshot]:
    """An hour of readings every 10 s: the GPU idle for the first half hour, then at 100 %."""
    base = host(name, time=END)
    gpu = base.gpus[0]
    readings = []
    for step in range(360):
        when = END - 3600 + 10 * step + 5
        util = 0.0 if step < 180 else 100.0
        gpus = (dataclasses.replace(gpu, util_percent=util),)
        readings.append(dataclasses.replace(base, time=when, gpus=gpus))
    return readings


async def test_grid_sparkline_shows_the_last_hour_of_gpu_use() -> None:
    analysis = ClusterAnalysis()
    for snap in _idle_then_busy("a"):
        analysis.history.add(snap)
    source = ScriptedSource([host("a"), host("nogpu", gpus=(), gpu_processes=())])
    app = ClusterTopApp(source, analysis, AppOptions(clock=lambda: END))
    async with app.run_test(size=WIDE):
        await wait_rows(app.grid.table, 2)
        table = app.grid.table
        assert cell_text(table, "a", "gpu_trend") == "▁▁▁▁▁█████"
        assert cell_text(table, "nogpu", "gpu_trend") == "-"
        assert "GPU·1h" in widget_text(table)


async def test_history_tab_charts_cpu_memory_and_each_gpu() -> None:
    app, _ = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        screen = await open_host(pilot, app, "dgx-a")
        await pilot.press("6")
        charts = screen.query_one(HistoryCharts)
        await until(lambda: "GPU 7 memory" in widget_text(charts), "the charts")
        text = widget_text(charts)
        for title in ("CPU", "Memory", "GPU 0 util", "GPU 0 memory"):
            assert f" {title} " in f" {text} ".replace("\n", " ")
        assert "60m ago" in text and text.rstrip().endswith("now")
        bars = set("▁▂▃▄▅▆▇█")
        chart_lines = [line for line in text.splitlines() if bars & set(line)]
        assert len(chart_lines) >= 2 * 3  # CPU and memory three lines each, GPUs below
        assert screen.sub_title.startswith("dgx-a · history")
        assert "s" not in screen.active_bindings  # sorting is for tables, not charts
        await pilot.press("tab")
        assert screen.current_pane.id == "gpus" and screen.current_table.has_focus


async def test_history_tab_says_when_there_is_nothing_yet() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        assert app.live.analysis is not None
        history = app.live.analysis.history
        history.forget("gpu05")
        # The demo keeps ticking: readings of gpu05 from now on are not kept, so the pane has
        # none to show however long opening the host takes.
        keep = history.add
        history.add = lambda snap: None if snap.name == "gpu05" else keep(snap)  # type: ignore[method-assign]
        screen = await open_host(pilot, app, "gpu05")
        await pilot.press("6")
        charts = screen.query_one(HistoryCharts)
        await until(lambda: "No readings of this host yet" in widget_text(charts), "message")
