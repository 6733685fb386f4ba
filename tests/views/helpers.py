"""Shared pieces for the cluster view tests: the frozen demo with analysis and an hour of history."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from clustertop.analysis.live import ClusterAnalysis
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import until, wait_rows

SIZE = (160, 48)
"""Terminal size of the view tests (as the UI snapshot tests)."""


def demo_app(
    *, history: bool = True, analysis: ClusterAnalysis | None = None, **options: Any
) -> tuple[ClusterTopApp, DemoSource]:
    """The frozen demo with an analysis (and, unless told not to, an hour of made-up history);
    `options` as AppOptions takes them."""
    source = DemoSource(frozen=True)
    analysis = analysis or ClusterAnalysis()
    if history:
        analysis.add_past(source.past_snapshots)
    app = ClusterTopApp(source, analysis, AppOptions(clock=source.clock, **options))
    return app, source


async def grid_ready(app: ClusterTopApp) -> None:
    """Wait until the grid shows every host."""
    await wait_rows(app.grid.table, len(app.host_names()))


async def open_view(pilot: Pilot[Any], key: str, kind: type[ClusterView]) -> ClusterView:
    """Press `key` on the grid and wait for the view to be on show with its rows."""
    app = pilot.app
    await pilot.press(key)
    await until(lambda: isinstance(app.screen, kind) and app.screen.is_mounted, kind.__name__)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, kind)
    return screen


async def open_host(pilot: Pilot[Any], app: ClusterTopApp, name: str) -> HostScreen:
    """Open `name`'s host screen and wait until it shows that host."""
    app.go_to_host(name)
    await until(
        lambda: (
            isinstance(app.screen, HostScreen) and app.screen.host == name and app.screen.is_mounted
        ),
        name,
    )
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HostScreen)
    return screen
