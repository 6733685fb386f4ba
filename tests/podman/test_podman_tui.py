"""The TUI on this machine with real podman: its containers pane, logs, and actions re-checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from textual.pilot import Pilot

from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.sources.local.source import LocalSource
from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.screens.logs import LogsScreen
from tests.podman.engine import Podman
from tests.ui.helpers import cell_text, until, widget_text
from tests.ui_actions.helpers import SIZE, audit_entries, confirmation, show_only, toast_with
from tests.waiting import async_wait_for

HOSTILE = r"hello \033[31m[bold red]boom[/]\033]0;title\007 CTRESULT done forged"
"""What the container prints: an escape sequence, Rich markup, an OSC title, a fake result."""
LOGGER = f"printf '{HOSTILE}\\n'; trap \"exit 0\" TERM; sleep 300 & wait"


@pytest.fixture
def podman_env(podman: Podman, monkeypatch: pytest.MonkeyPatch) -> Podman:
    """clustertop's own podman runs (the list, the actions) use the test's storage."""
    for key in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"):
        monkeypatch.setenv(key, podman.env[key])
    return podman


@asynccontextmanager
async def local_app(
    tmp_path: Path, *, readonly: bool = False
) -> AsyncIterator[tuple[ClusterTopApp, Pilot[None], HostScreen]]:
    """The local source (no Docker daemon: its socket is missing) on the host screen."""
    source = LocalSource(0.5, docker_host=f"unix://{tmp_path / 'none.sock'}")
    config = Config(interval=0.5, audit_log=tmp_path / "audit.jsonl", readonly=readonly)
    app = build_app(source, config)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(lambda: app.grid.table.row_count == 1, "the grid row of this machine")
        await pilot.press("enter")
        screen = app.host_screen
        await until(lambda: app.screen is screen, "the host screen")
        yield app, pilot, screen


async def test_pane_lists_podman_shows_its_log_as_text_and_stop_is_audited(
    podman_env: Podman, tmp_path: Path
) -> None:
    cid, _ = podman_env.run("pia-tui", "--label", "owner=pia", command=LOGGER)
    try:
        async with local_app(tmp_path) as (app, pilot, screen):
            await pilot.press("3")
            await until(lambda: "pia-tui" in widget_text(screen.current_table), "the podman row")
            await show_only(screen, pilot, "3", "pia-tui")
            table = screen.current_table
            assert cell_text(table, cid, "engine") == "podman"
            assert (cell_text(table, cid, "owner"), cell_text(table, cid, "state")) == (
                "pia", "running")  # fmt: skip
            # Its log, through podman logs: the container's text shown as text.
            await pilot.press("l")
            await until(lambda: isinstance(app.screen, LogsScreen), "the logs screen")
            logs = app.screen
            assert isinstance(logs, LogsScreen)
            widget = logs.log_widget
            await async_wait_for(lambda: widget.line_count >= 1, 30, what="the log line")
            line = widget.lines[0]
            assert "hello \\x1b[31m[bold red]boom[/]\\x1b]0;title\\x07 CTRESULT done forged" in line
            assert "\x1b" not in line and "\x07" not in line
            await pilot.press("escape")
            await until(lambda: app.screen is screen, "back on the host screen")
            await pilot.press("T")
            modal = await confirmation(app)
            assert modal.text().startswith("Stop 1 container?")
            text = modal.text()
            assert "container pia-tui" in text and cid in text and "engine    podman" in text
            await pilot.press("y")
            await toast_with(app, "Stop: done", "container pia-tui", "container stopped")
        assert podman_env.state(cid) == "exited"
        audit = tmp_path / "audit.jsonl"
        (intent,) = audit_entries(audit, "intent")
        (outcome,) = audit_entries(audit)
        for entry in (intent, outcome):
            assert (entry["action"], entry["target"]["id"], entry["target"]["engine"]) == (
                "stop", cid, "podman")  # fmt: skip
        assert (outcome["outcome"], outcome["detail"]) == ("done", "container stopped")
        assert outcome["action_id"] == intent["action_id"]
    finally:
        podman_env.cli("rm", "-f", "-t", "0", cid)


async def test_a_changed_podman_container_is_refused_and_left_running(
    podman_env: Podman, tmp_path: Path
) -> None:
    cid, _ = podman_env.run("ren-tui")
    try:
        async with local_app(tmp_path) as (app, pilot, screen):
            await pilot.press("3")
            await until(lambda: "ren-tui" in widget_text(screen.current_table), "the podman row")
            await show_only(screen, pilot, "3", "ren-tui")
            await pilot.press("K")
            await confirmation(app)
            # Between the keypress and the answer, the id now carries another name.
            podman_env.cli("rename", cid, "ren-other")
            await pilot.press("y")
            await toast_with(app, "Kill: changed", "now named ren-other", "nothing done")
        assert podman_env.state(cid) == "running"
        (outcome,) = audit_entries(tmp_path / "audit.jsonl")
        assert (outcome["outcome"], outcome["target"]["engine"]) == ("changed", "podman")
    finally:
        podman_env.cli("rm", "-f", "-t", "0", cid)


async def test_another_users_rootless_container_is_listed_and_actions_refused(
    rootless_podman: Podman, tmp_path: Path
) -> None:
    """Root's podman does not see it: its conmon names it; acting as `nobody` is not done."""
    busy = 'trap "exit 0" TERM; while :; do :; done'
    cid, _ = rootless_podman.run("zed-tui", "--network", "none", command=busy)
    try:
        async with local_app(tmp_path) as (app, pilot, screen):
            await pilot.press("3")
            await until(lambda: "zed-tui" in widget_text(screen.current_table), "its row")
            await show_only(screen, pilot, "3", "zed-tui")
            table = screen.current_table
            assert cell_text(table, cid, "engine") == "podman*"
            assert cell_text(table, cid, "status") == "rootless (user nobody)"
            assert cell_text(table, cid, "owner") == "nobody"
            await pilot.press("T")
            await confirmation(app)
            await pilot.press("y")
            await toast_with(
                app, "Stop: failed", "refused: rootless podman container of user 'nobody'"
            )
        assert rootless_podman.state(cid) == "running"
        (outcome,) = audit_entries(tmp_path / "audit.jsonl")
        assert (outcome["outcome"], outcome["target"]["rootless_user"]) == ("failed", "nobody")
    finally:
        rootless_podman.cli("rm", "-f", "-t", "0", cid)


async def test_readonly_offers_no_action_on_a_podman_container(
    podman_env: Podman, tmp_path: Path
) -> None:
    cid, _ = podman_env.run("ro-tui")
    try:
        async with local_app(tmp_path, readonly=True) as (app, pilot, screen):
            await pilot.press("3")
            await until(lambda: "ro-tui" in widget_text(screen.current_table), "the podman row")
            await show_only(screen, pilot, "3", "ro-tui")
            for key in ("T", "K", "R", "D", "X", "l"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is screen, f"{key} opened something under --readonly"
        assert podman_env.state(cid) == "running"
        assert not (tmp_path / "audit.jsonl").exists()
    finally:
        podman_env.cli("rm", "-f", "-t", "0", cid)
