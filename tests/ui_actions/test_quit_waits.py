"""Quitting right after `y` on a slow `docker stop`: the stop happens, visibly, and is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.actions.helpers import container_state
from tests.fleet.fleet import Fleet
from tests.reliability import record
from tests.ui_actions.helpers import (
    audit_entries,
    confirmation,
    fleet_app,
    open_host,
    show_only,
    toast_with,
)
from tests.waiting import async_wait_for


@pytest.mark.reliability
async def test_quit_waits_for_the_stop_and_both_audit_lines(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    # busybox ignores SIGTERM: `docker stop` takes its whole grace period (4 s) on this one.
    cid = engine.run_container("qw-slow", extra_args=("--stop-timeout", "4"))
    audit = tmp_path / "audit.jsonl"
    async with fleet_app(clean_fleet, ["h1"], audit) as (app, pilot):
        screen = await open_host(app, pilot, "h1")
        await show_only(screen, pilot, "3", "qw-slow")
        await pilot.press("T")
        await confirmation(app)
        await pilot.press("y")
        await async_wait_for(lambda: audit_entries(audit, "intent"), 20, what="the intent line")
        await pilot.press("q")
        await toast_with(app, "Quitting", "finishing 1 action…")
        assert app.return_code is None, "still waiting for the stop"
        await async_wait_for(lambda: app.return_code is not None, 30, what="the app to exit")
        # exit() comes after the outcome line: nothing runs once the app is gone.
        outcomes = audit_entries(audit)
    assert container_state(engine, cid) == "exited"
    (intent,) = audit_entries(audit, "intent")
    assert [(e["action"], e["outcome"], e["action_id"]) for e in outcomes] == [
        ("stop", "done", intent["action_id"])
    ]
    assert intent["target"]["id"] == cid
    record(
        "lost",
        "audit-quit",
        "q right after y: 'finishing 1 action' shown, container stopped, intent and outcome logged",
    )
