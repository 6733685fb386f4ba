"""Driving the action keys: demo and fleet apps, opening panes, reading modals and toasts."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.screen import ModalScreen

from clustertop.actions.demo_runner import DemoActionRunner
from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.stale import StaleTracker
from clustertop.cli.launch import action_runner
from clustertop.config.settings import Config
from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.demo.source import DemoSource
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.confirm import ConfirmScreen
from clustertop.ui.screens.host import HostScreen
from tests.fleet.fleet import Fleet
from tests.ui.helpers import until
from tests.waiting import async_wait_for

SIZE = (160, 48)
"""Terminal size of every test here."""


def demo_app(
    analysis: ClusterAnalysis | None = None, **options: Any
) -> tuple[ClusterTopApp, DemoSource]:
    """The frozen demo with its action runner (actions change what the demo shows); `options`
    as AppOptions takes them."""
    source = DemoSource(frozen=True, interval=1.0)
    options.setdefault("runner", DemoActionRunner(source))
    return ClusterTopApp(source, analysis, AppOptions(clock=source.clock, **options)), source


def stale_now() -> ClusterAnalysis:
    """An analysis that calls a container stale from one idle reading (stale_after 0)."""
    return ClusterAnalysis(stale=StaleTracker(stale_after=0.0, util_percent=5.0))


@contextlib.asynccontextmanager
async def fleet_app(
    fleet: Fleet,
    hosts: Sequence[str],
    audit_log: Path,
    *,
    readonly: bool = False,
    analysis: ClusterAnalysis | None = None,
    interval: float = 0.5,
) -> AsyncIterator[tuple[ClusterTopApp, Pilot[None]]]:
    """The app over an SshSource on the fleet, its runner built as `clustertop` builds it."""
    source = SshSource(
        [parse_host_spec(host) for host in hosts],
        SshSettings(config_paths=(fleet.ssh_config,), connect_timeout=5.0),
        interval=interval,
        session_settings=lambda _: SessionSettings(
            interval=interval, deadline=0.4, backoff_base=0.2, backoff_cap=1.0
        ),
    )
    # The runner even when read-only: the UI alone must keep every action key dead.
    runner = action_runner(source, Config(audit_log=audit_log))
    app = ClusterTopApp(
        source, analysis, AppOptions(interval=interval, readonly=readonly, runner=runner)
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        yield app, pilot


async def open_host(app: ClusterTopApp, pilot: Pilot[None], host: str) -> HostScreen:
    """Put the grid's cursor on `host` and press Enter, as a user would."""
    await until(lambda: app.grid.table.row_count == len(app.host_names()), "every host row")
    await until(lambda: app.grid.go_to(host), f"{host} on the grid")
    await pilot.press("enter")
    await until(
        lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, f"{host} screen"
    )
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HostScreen) and screen.host == host
    return screen


async def show_only(screen: HostScreen, pilot: Pilot[None], pane_key: str, text: str) -> None:
    """Open a pane and filter it down to the one row containing `text`."""
    await pilot.press(pane_key, "slash", *text, "enter")
    table = screen.current_table
    await until(lambda: table.row_count == 1 and table.has_focus, f"only the {text!r} row")


async def confirmation(app: ClusterTopApp) -> ConfirmScreen:
    """The open confirmation modal (waits for it)."""
    await until(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
    screen = app.screen
    assert isinstance(screen, ConfirmScreen)
    return screen


def modal_open(app: ClusterTopApp) -> bool:
    """True while any modal is on top."""
    return any(isinstance(screen, ModalScreen) for screen in app.screen_stack)


def toasts(app: ClusterTopApp) -> list[str]:
    """The text of every notification on screen now."""
    return [str(toast.render()) for toast in app.screen.query("Toast")]


async def toast_with(app: ClusterTopApp, *parts: str) -> str:
    """Wait for a notification containing every one of `parts`; returns its text."""

    def found() -> str | None:
        return next((t for t in toasts(app) if all(p in t for p in parts)), None)

    shown = await async_wait_for(found, timeout=30, what=f"a toast with {parts}")
    assert shown is not None
    return shown


def audit_entries(path: Path, event: str = "outcome") -> list[dict[str, Any]]:
    """The audit log's records of one kind (outcome or intent lines), oldest first."""
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [entry for entry in entries if entry["event"] == event]
