"""Traffic and disk I/O history: recorded in the store, read back after a restart, charted."""

from __future__ import annotations

import dataclasses
import gzip
import sqlite3
from pathlib import Path

import pytest

from clustertop.analysis.history import History, Metric
from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.model import HostSnapshot
from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    NetCounters,
)
from clustertop.store.past import store_past
from clustertop.store.report import build_report
from clustertop.store.rollup import roll_up
from clustertop.store.schema import FORMAT_VERSION
from clustertop.store.writer import Reading, StoreWriter
from clustertop.ui.app import ClusterTopApp
from clustertop.ui.panes import PANES
from clustertop.ui.widgets.history_pane import HistoryCharts
from tests.store.crafted import END as CRAFTED_END
from tests.store.crafted import EXPECTED_OWNERS, T0
from tests.ui.helpers import NOW, ScriptedSource, host, until, wait_rows, widget_text

SIZE = (160, 60)
MIB = 1 << 20
FORMAT2 = Path(__file__).parent / "fixtures" / "history-format2.sqlite.gz"
"""tests/store/crafted.py's history as clustertop with store format 2 wrote it (main at c9e8c21)."""
RX, TX, READ, WRITE = 1.0 * MIB, 0.25 * MIB, 2.0 * MIB, 4.0 * MIB
"""The known traffic and disk I/O of every reading below, bytes per second."""


def _iface(name: str, kind: InterfaceKind, rx: float | None, tx: float | None) -> Interface:
    return Interface(NetCounters(name, 0, 0, 0, 0, 0, 0, 0, 0), kind, rx, tx)


def _disk(name: str, read: float | None, write: float | None) -> DiskIo:
    return DiskIo(DiskCounters(name, 0, 0, 0, 0, 0), read, write, 1.0, 1.0, 5.0)


def busy(name: str, t: float) -> HostSnapshot:
    """A host moving RX/TX over eth0 and READ/WRITE on sda; lo and sda1 must not add to it."""
    return dataclasses.replace(
        host(name, time=t, data_time=t),
        interfaces=(
            _iface("eth0", InterfaceKind.PHYSICAL, RX, TX),
            _iface("lo", InterfaceKind.LOOPBACK, 100.0 * MIB, 100.0 * MIB),
        ),
        disk_io=(_disk("sda", READ, WRITE), _disk("sda1", READ, WRITE)),
    )


def _values(history: History, name: str, metric: Metric) -> set[float | None]:
    return {value for _, value in history.series(name, metric)}


def test_rates_go_through_the_store_raw_and_rolled_into_minutes(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    writer = StoreWriter(path)
    for k in range(61):  # 20 h ago, rolled into minutes below; then the last 10 minutes raw
        writer.write([Reading(busy("a", NOW - 20 * 3600 + 60 * k), 60.0)])
    for k in range(60):
        writer.write([Reading(busy("a", NOW - 600 + 10 * k), 10.0)])
    writer.write([Reading(host("quiet", time=NOW - 5), 10.0)])  # no network read: no rates
    writer.close()
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, NOW - 900, 365 * 86400.0)
    minutes = conn.execute("SELECT count(*), min(rx), max(wr) FROM min_io").fetchone()
    conn.close()
    assert minutes == (61, RX, WRITE)
    for window, resolution in ((3600.0, 10.0), (86400.0, 240.0), (7 * 86400.0, 1680.0)):
        history = History(window, resolution)
        for snap in store_past(path, NOW, window, resolution):
            history.add(snap)
        assert _values(history, "a", Metric.NET_RX) == {RX}
        assert _values(history, "a", Metric.NET_TX) == {TX}
        assert _values(history, "a", Metric.DISK_READ) == {READ}
        assert _values(history, "a", Metric.DISK_WRITE) == {WRITE}
        assert history.has_rates("a") and not history.has_rates("quiet")


def test_a_format_2_store_is_read_as_is_and_upgraded_keeping_its_history(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(gzip.decompress(FORMAT2.read_bytes()))
    before = path.read_bytes()
    owners = {o.owner: o.held_h for o in build_report(path, T0, CRAFTED_END).owners}
    assert owners == {o: pytest.approx(v[0]) for o, v in EXPECTED_OWNERS.items()}
    assert store_past(path, CRAFTED_END, 86400.0, 240.0)  # read-only: no I/O tables, no error
    assert path.read_bytes() == before
    writer = StoreWriter(path)
    writer.write([Reading(busy("gpu01", CRAFTED_END + 10), 10.0)])
    writer.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT_VERSION == 3
    assert conn.execute("SELECT rx, tx, rd, wr FROM raw_io").fetchall() == [(RX, TX, READ, WRITE)]
    conn.close()
    owners = {o.owner: o.held_h for o in build_report(path, T0, CRAFTED_END).owners}
    assert owners == {o: pytest.approx(v[0]) for o, v in EXPECTED_OWNERS.items()}


def _app(path: Path, source: ScriptedSource) -> ClusterTopApp:
    return build_app(source, Config(history_path=path, interval=2.0), clock=lambda: NOW)


def _chart(text: str, title: str) -> str:
    """The 'now …' figure under a chart's title."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(title + " "))
    return lines[at + 1].split("  ")[0].strip()


async def _history_tab(app: ClusterTopApp, pilot: object) -> HistoryCharts:
    await wait_rows(app.grid.table, 1)
    assert app.live.analysis is not None
    zoom = app.live.analysis.zoom
    await until(lambda: all(level.pending is None for level in zoom.levels), "zoom loaded")
    await pilot.press("enter")  # type: ignore[attr-defined]
    await pilot.press(str(len(PANES) + 1))  # type: ignore[attr-defined]
    return app.screen.query_one(HistoryCharts)


KNOWN = {
    "Net receive": "now 1.0 MiB/s",
    "Net send": "now 256.0 KiB/s",
    "Disk read": "now 2.0 MiB/s",
    "Disk write": "now 4.0 MiB/s",
}


async def test_history_tab_charts_known_traffic_and_again_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    source = ScriptedSource([host("a", time=NOW - 700)])  # older than the readings below
    app = _app(path, source)
    assert app.options.recorder is not None
    async with app.run_test(size=SIZE) as pilot:
        charts = await _history_tab(app, pilot)
        for k in range(60):
            source.emit(busy("a", NOW - 600 + 10 * k))
        await until(lambda: "Disk write" in widget_text(charts), "the rate charts")
        text = widget_text(charts)
        assert {title: _chart(text, title) for title in KNOWN} == KNOWN
        assert app.options.recorder.flush()
    second = _app(path, ScriptedSource([host("a")]))  # this run's readings carry no rates
    async with second.run_test(size=SIZE) as pilot:
        charts = await _history_tab(second, pilot)
        await until(lambda: "Disk write" in widget_text(charts), "rate charts from the store")
        assert {title: _chart(widget_text(charts), title) for title in KNOWN} == KNOWN
        await pilot.press("z")
        await until(lambda: "24h ago" in widget_text(charts), "24 h charts")
        assert {title: _chart(widget_text(charts), title) for title in KNOWN} == KNOWN
        await pilot.press("z")
        await until(lambda: "7d ago" in widget_text(charts), "7 d charts")
        assert {title: _chart(widget_text(charts), title) for title in KNOWN} == KNOWN


async def test_a_host_without_rates_gets_no_empty_rate_charts(tmp_path: Path) -> None:
    app = _app(tmp_path / "h.sqlite", ScriptedSource([host("a")]))
    async with app.run_test(size=SIZE) as pilot:
        charts = await _history_tab(app, pilot)
        await until(lambda: "Memory" in widget_text(charts), "the charts")
        assert "Net receive" not in widget_text(charts)
