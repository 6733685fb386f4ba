"""Container keys against the loopback fleet: each action really happens on the host's engine."""

from __future__ import annotations

from pathlib import Path

import psutil

from clustertop.ui.screens.logs import LogsScreen
from tests.actions.helpers import BUSY_LOGGER, container_state, started_at
from tests.fleet.fleet import Fleet
from tests.ui.helpers import until
from tests.ui_actions.helpers import (
    audit_entries,
    confirmation,
    fleet_app,
    open_host,
    show_only,
    toast_with,
)
from tests.waiting import async_wait_for


async def test_stop_kill_restart_and_remove_from_keys_happen_on_the_engine(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    # Short names: the filter box is typed into key by key.
    ids = {name: engine.run_container(name) for name in ("al-stop", "al-kill", "al-rst")}
    ids["bo-done"] = engine.run_container("bo-done", "true", detach=False)
    restarted_before = started_at(engine, ids["al-rst"])
    steps = [
        ("T", "al-stop", "Stop", "container stopped"),
        ("K", "al-kill", "Kill", "container killed"),
        ("R", "al-rst", "Restart", "container restarted"),
        ("D", "bo-done", "Remove", "container removed"),
    ]
    audit = tmp_path / "state" / "audit.jsonl"
    async with fleet_app(clean_fleet, ["h1"], audit) as (app, pilot):
        screen = await open_host(app, pilot, "h1")
        for key, name, label, detail in steps:
            await show_only(screen, pilot, "3", name)
            await pilot.press(key)
            modal = await confirmation(app)
            text = modal.text()
            assert text.startswith(f"{label} 1 container?")
            assert "h1" in text and name in text and ids[name] in text
            assert not modal.force, "an exited container is removed without force"
            await pilot.press("y")
            await toast_with(app, f"{label}: done", f"h1: container {name}", detail)
            await pilot.press("escape")  # clear the filter for the next one
    assert container_state(engine, ids["al-stop"]) == "exited"
    assert container_state(engine, ids["al-kill"]) == "exited"
    assert container_state(engine, ids["al-rst"]) == "running"
    assert started_at(engine, ids["al-rst"]) != restarted_before
    assert container_state(engine, ids["bo-done"]) is None
    entries = audit_entries(audit)
    assert [(e["host"], e["action"], e["target"]["id"], e["outcome"]) for e in entries] == [
        ("h1", "stop", ids["al-stop"], "done"),
        ("h1", "kill", ids["al-kill"], "done"),
        ("h1", "restart", ids["al-rst"], "done"),
        ("h1", "remove", ids["bo-done"], "done"),
    ]
    assert entries[0]["target"]["name"] == "al-stop"


async def test_container_replaced_while_the_modal_is_open_is_refused(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    old = engine.run_container("cj-job")
    audit = tmp_path / "audit.jsonl"
    async with fleet_app(clean_fleet, ["h1"], audit) as (app, pilot):
        screen = await open_host(app, pilot, "h1")
        await show_only(screen, pilot, "3", "cj-job")
        await pilot.press("K")
        modal = await confirmation(app)
        assert old in modal.text()
        engine.cli("rm", "--force", "cj-job")
        new = engine.run_container("cj-job")  # same name, another container
        await pilot.press("y")
        await toast_with(app, "Kill: gone", f"no container {old} on this host")
    assert container_state(engine, new) == "running"
    assert [(e["outcome"], e["target"]["id"]) for e in audit_entries(audit)] == [("gone", old)]


def _log_followers(container_id: str) -> list[int]:
    """PIDs of `docker logs` processes following this container (on any fleet host)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "logs" in cmdline and container_id in cmdline:
            found.append(proc.pid)
    return found


async def test_logs_follow_live_and_escape_ends_the_stream_on_the_host(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    engine = clean_fleet["h2"].docker
    assert engine is not None
    cid = engine.run_container("dl-logger", *BUSY_LOGGER)
    async with fleet_app(clean_fleet, ["h2"], tmp_path / "audit.jsonl") as (app, pilot):
        screen = await open_host(app, pilot, "h2")
        await show_only(screen, pilot, "3", "dl-logger")
        await pilot.press("l")
        await until(lambda: isinstance(app.screen, LogsScreen), "the logs screen")
        logs = app.screen
        assert isinstance(logs, LogsScreen)
        widget = logs.log_widget
        await async_wait_for(lambda: widget.line_count >= 3, 20, what="first lines")
        seen = widget.line_count
        assert " line " in widget.lines[0]  # timestamp, then the container's own text
        await async_wait_for(lambda: widget.line_count >= seen + 3, 20, what="new lines")
        assert _log_followers(cid), "a docker logs process follows the container"
        await pilot.press("escape")
        await until(lambda: app.screen is screen, "back on the host screen")
        await async_wait_for(lambda: not _log_followers(cid), 10, what="docker logs to end")
    assert container_state(engine, cid) == "running"
