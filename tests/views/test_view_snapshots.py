"""SVG snapshots of the users, free GPUs and alerts views, the grid's sparklines and the History tab.

Over the frozen demo with an hour of made-up history. Update after an intended change with:
pytest tests/views/test_view_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.widgets.history_pane import HistoryCharts
from tests.views.helpers import SIZE, demo_app, grid_ready, open_host

SnapCompare = Callable[..., bool]


def _app() -> ClusterTopApp:
    return demo_app()[0]


def _view(key: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ClusterTopApp)
        await grid_ready(app)
        await pilot.press(key)
        while not (isinstance(app.screen, ClusterView) and app.screen.table.row_count):
            await pilot.pause(0.05)

    return run_before


async def _history(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ClusterTopApp)
    await grid_ready(app)
    screen = await open_host(pilot, app, "dgx-a")
    await pilot.press("6")
    while "GPU 0 util" not in str(screen.query_one(HistoryCharts).render()):
        await pilot.pause(0.05)


async def _grid(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, ClusterTopApp)
    await grid_ready(app)


@pytest.mark.parametrize("key", ["u", "f", "a"], ids=["users", "free", "alerts"])
def test_view(snap_compare: SnapCompare, key: str) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_view(key))


def test_history_tab(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=SIZE, run_before=_history)


def test_wide_grid_with_sparklines_and_alert_highlights(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=(180, 48), run_before=_grid)
