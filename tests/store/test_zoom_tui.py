"""The grid's sparkline and the History tab zoom 1 h / 24 h / 7 d from the store, after a restart."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.store.rollup import roll_up
from clustertop.store.writer import Reading, StoreWriter
from clustertop.ui.app import ClusterTopApp
from clustertop.ui.panes import PANES
from clustertop.ui.widgets.history_pane import HistoryCharts
from clustertop.ui.widgets.table_sync import KeyedTable
from tests.ui.helpers import NOW, ScriptedSource, cell_text, host, until, wait_rows, widget_text

SIZE = (160, 40)


def _busy(name: str, t: float) -> Reading:
    snap = host(name, time=t)
    (gpu,) = snap.gpus
    return Reading(
        dataclasses.replace(snap, gpus=(dataclasses.replace(gpu, util_percent=100.0),)), 60.0
    )


def _past_day(path: Path) -> None:
    """Host 'a' at 100% GPU from 20 h to 19 h ago, rolled into minutes as a day's store would be."""
    writer = StoreWriter(path)
    for k in range(61):
        writer.write([_busy("a", NOW - 20 * 3600 + 60 * k)])
    writer.close()
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, NOW, 365 * 86400.0)
    conn.close()


def _app(path: Path) -> tuple[ClusterTopApp, ScriptedSource]:
    source = ScriptedSource([host("a")])
    config = Config(history_path=path, interval=2.0)
    return build_app(source, config, clock=lambda: NOW), source


def _labels(table: KeyedTable) -> list[str]:
    return [str(column.label) for column in table.columns.values()]


async def _loaded(app: ClusterTopApp) -> None:
    assert app.live.analysis is not None
    zoom = app.live.analysis.zoom
    await until(lambda: all(level.pending is None for level in zoom.levels), "zoom levels loaded")


async def test_the_grid_trend_zooms_to_a_day_from_the_store(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    _past_day(path)
    app, _ = _app(path)
    async with app.run_test(size=SIZE) as pilot:
        table = app.grid.table
        await wait_rows(table, 1)
        await _loaded(app)
        hour = cell_text(table, "a", "gpu_trend")
        assert "█" not in hour  # 50% now, nothing of yesterday in the last hour
        await pilot.press("z")
        await until(lambda: "GPU·24h" in _labels(table), "24h label")
        day = cell_text(table, "a", "gpu_trend")
        assert "█" in day  # 20 h ago at 100%
        assert day.index("█") < len(day) // 2  # in the older half
        await pilot.press("z")
        await until(lambda: "GPU·7d" in _labels(table), "7d label")
        await pilot.press("z")
        await until(lambda: "GPU·1h" in _labels(table), "1h label")
        assert cell_text(table, "a", "gpu_trend") == hour


async def test_the_history_tab_zooms_too(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    _past_day(path)
    app, _ = _app(path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        await _loaded(app)
        await pilot.press("enter")
        await pilot.press(str(len(PANES) + 1))
        charts = app.screen.query_one(HistoryCharts)
        await until(lambda: "60m ago" in widget_text(charts), "1 h charts")
        await pilot.press("z")
        await until(lambda: "24h ago" in widget_text(charts), "24 h charts")
        assert "max 100%" in widget_text(charts)  # yesterday's busy hour
        await pilot.press("z", "z")
        await until(lambda: "60m ago" in widget_text(charts), "back to 1 h")


async def test_the_last_hour_survives_a_restart(tmp_path: Path) -> None:
    """One run records; the next one shows that hour in the grid's trend at once."""
    path = tmp_path / "h.sqlite"
    app, source = _app(path)
    assert app.options.recorder is not None
    async with app.run_test(size=SIZE):
        await wait_rows(app.grid.table, 1)
        for k in range(1, 60):
            busy = _busy("a", NOW - 3000 + 10 * k).snap
            source.emit(busy)
        assert app.options.recorder.flush()
    second, _ = _app(path)
    async with second.run_test(size=SIZE):
        await wait_rows(second.grid.table, 1)
        trend = cell_text(second.grid.table, "a", "gpu_trend")
        assert "█" in trend  # 100% GPU from the first run's readings
