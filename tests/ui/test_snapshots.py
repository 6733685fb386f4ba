"""SVG snapshots of the grid, each host pane and the help, over the frozen demo at 160x48.

Update after an intended change with: pytest tests/ui/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.host import HostScreen

SIZE = (160, 48)
SnapCompare = Callable[..., bool]


def _demo_app() -> ClusterTopApp:
    source = DemoSource(frozen=True)
    return ClusterTopApp(source, options=AppOptions(clock=source.clock))


def _open(host: str | None, *keys: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ClusterTopApp)
        while app.grid.table.row_count < len(app.host_names()):
            await pilot.pause(0.05)
        if host is not None:
            app.go_to_host(host)
            while not (isinstance(app.screen, HostScreen) and app.screen.is_mounted):
                await pilot.pause(0.05)
        await pilot.press(*keys)

    return run_before


def test_grid(snap_compare: SnapCompare) -> None:
    assert snap_compare(_demo_app(), terminal_size=SIZE, run_before=_open(None))


@pytest.mark.parametrize(
    ("host", "key"),
    [("dgx-a", "1"), ("dgx-a", "2"), ("gpu02", "3"), ("gpu05", "4"), ("storage01", "5")],
    ids=["gpus", "gpu-processes", "containers", "processes", "disks"],
)
def test_host_pane(snap_compare: SnapCompare, host: str, key: str) -> None:
    assert snap_compare(_demo_app(), terminal_size=SIZE, run_before=_open(host, key))


def test_help_on_host_screen(snap_compare: SnapCompare) -> None:
    run_before = _open("gpu05", "4", "question_mark")
    assert snap_compare(_demo_app(), terminal_size=SIZE, run_before=run_before)
