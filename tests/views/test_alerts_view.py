"""The alerts view, the alert highlight on grid rows, and the bell for new alerts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from clustertop.analysis.alerts import Severity
from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import HostState
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui import app as app_module
from clustertop.ui.grid_analysis import ALERT_STYLES
from clustertop.ui.screens.alerts import AlertsScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.util.units import duration
from tests.ui.helpers import NOW, ScriptedSource, cell_text, host, until, wait_rows, widget_text
from tests.views.helpers import SIZE, demo_app, grid_ready, open_view


async def test_rows_are_the_active_alerts_most_urgent_first_with_their_age() -> None:
    app, source = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "a", AlertsScreen)
        assert app.live.analysis is not None
        alerts = app.live.analysis.alerts()
        table = view.table
        assert table.ordered_keys() == [alert.key for alert in alerts]
        now = source.clock()
        for alert in alerts:
            assert cell_text(table, alert.key, "severity") == str(alert.severity)
            assert cell_text(table, alert.key, "host") == alert.host
            assert cell_text(table, alert.key, "kind") == str(alert.kind)
            assert cell_text(table, alert.key, "message") == alert.message
            assert cell_text(table, alert.key, "since") == duration(now - alert.since)
        first = alerts[0]
        assert (first.host, str(first.kind), cell_text(table, first.key, "since")) == (
            "gpu07",
            "host-down",
            "2h13m",
        )
        assert str(alerts[-1].severity) != "critical"
        assert f"Alerts {len(alerts)}" in widget_text(view.query_one(".view-summary"))
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.host == "gpu07", "")


async def test_hosts_with_alerts_are_highlighted_in_the_grid() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE):
        await grid_ready(app)
        assert app.live.analysis is not None
        table = app.grid.table
        alerting = {alert.host for alert in app.live.analysis.alerts()}
        for name in app.host_names():
            cell = table.get_cell(name, "host")
            styles = {span.style for span in cell.spans}
            expected = app.live.analysis.alert_tracker.host_alerts(name)
            if name in alerting:
                assert ALERT_STYLES[expected[0].severity] in styles, name
            else:
                assert not styles & set(ALERT_STYLES.values()), name
        # Down host: critical; a full disk: warning; a healthy host: plain.
        spans = {
            name: {span.style for span in table.get_cell(name, "host").spans}
            for name in ("gpu07", "storage01", "gpu01")
        }
        assert ALERT_STYLES[Severity.CRITICAL] in spans["gpu07"]
        assert ALERT_STYLES[Severity.WARNING] in spans["storage01"]
        assert not spans["gpu01"] & set(ALERT_STYLES.values())


async def test_message_with_markup_and_escapes_is_shown_literally() -> None:
    hostile = "[red]x[/] \x1b[2J"
    snap = host("a", state=HostState.UNREACHABLE, error=hostile, state_since=NOW - 5)
    source = ScriptedSource([snap])
    app = ClusterTopApp(source, ClusterAnalysis(), AppOptions(clock=lambda: NOW))
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        view = await open_view(pilot, "a", AlertsScreen)
        await until(lambda: view.table.row_count == 1, "one alert")
        message = cell_text(view.table, view.table.ordered_keys()[0], "message")
        assert "[red]x[/] \\x1b[2J" in message
        assert "[red]x[/] \\x1b[2J" in widget_text(view.table)


class _BellCounter(ClusterTopApp):
    """The app with its bell counted (headless, App.bell writes nothing anywhere)."""

    CSS_PATH = str(Path(app_module.__file__).parent / "styles.tcss")  # relative: to this file
    rings = 0

    def bell(self) -> None:
        self.rings += 1


async def test_bell_rings_once_for_an_alert_that_appears_not_for_those_at_start() -> None:
    down_from_start = host("b", state=HostState.UNREACHABLE, error="refused", state_since=NOW)
    source = ScriptedSource([host("a"), down_from_start])
    app = _BellCounter(source, ClusterAnalysis(), AppOptions(clock=lambda: NOW, bell=True))
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 2)
        await until(lambda: app.live.analysis and app.live.analysis.alert_count() == 1, "b's alert")
        await pilot.pause(0.3)
        assert app.rings == 0
        full = dataclasses.replace(host("a").disks[0], used=99 * 2**30, available=2**30)
        source.emit(host("a", time=NOW + 2, disks=(full,)))
        await until(lambda: app.rings == 1, "the bell")
        source.emit(host("a", time=NOW + 4, disks=(full,)))  # still full: not new
        await until(lambda: "99%" in cell_text(app.grid.table, "a", "disk"), "next reading")
        await pilot.pause(0.3)
        assert app.rings == 1


async def test_no_bell_unless_asked() -> None:
    source = ScriptedSource([host("a")])
    app = _BellCounter(source, ClusterAnalysis(), AppOptions(clock=lambda: NOW))
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 1)
        source.emit(host("a", time=NOW + 2, state=HostState.UNREACHABLE, error="gone"))
        await until(lambda: app.live.analysis and app.live.analysis.alert_count() == 1, "alert")
        await pilot.pause(0.3)
        assert app.rings == 0
