"""SVG snapshots of the confirmation (container, force-remove and process variants) and the logs
view, over the frozen demo at 160x48.

Update after an intended change with: pytest tests/ui_actions/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.confirm import ConfirmScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.screens.logs import LogsScreen
from tests.ui_actions.helpers import SIZE, demo_app

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Process start times are shown in local time: make it the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _on(host: str, *keys: str, until: type) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ClusterTopApp)
        while app.grid.table.row_count < len(app.host_names()):
            await pilot.pause(0.05)
        app.go_to_host(host)
        while not (isinstance(app.screen, HostScreen) and app.screen.is_mounted):
            await pilot.pause(0.05)
        await pilot.press(*keys)
        while not isinstance(app.screen, until):
            await pilot.pause(0.05)
        if isinstance(app.screen, LogsScreen):
            while app.screen.log_widget.line_count < 200:
                await pilot.pause(0.05)
        await pilot.pause()

    return run_before


@pytest.mark.parametrize(
    ("host", "keys"),
    [
        ("gpu02", ("3", "T")),
        ("gpu02", ("3", "down", "D")),
        ("gpu05", ("4", "slash", *"31337", "enter", "T")),
    ],
    ids=["container-stop", "container-remove-running", "process-term"],
)
def test_confirmation(snap_compare: SnapCompare, host: str, keys: tuple[str, ...]) -> None:
    app, _ = demo_app()
    run_before = _on(host, *keys, until=ConfirmScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_logs_view(snap_compare: SnapCompare) -> None:
    app, _ = demo_app()
    run_before = _on("gpu02", "3", "l", until=LogsScreen)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
