"""Audited actions on a fleet host: each real action leaves its intent and its outcome line."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from clustertop.actions.audit import AuditedRunner, AuditLog
from clustertop.actions.model import Outcome, Verb
from clustertop.config.settings import default_audit_log
from tests.actions.helpers import (
    container_state,
    container_target,
    process_target,
    ssh_runner,
    start_sleep,
    stop_sleep,
)
from tests.fleet.fleet import Fleet


async def test_every_result_is_recorded_once(
    clean_fleet: Fleet,
    container_name: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    engine = clean_fleet["h1"].docker
    assert engine is not None
    name = container_name("olga-job")
    cid = engine.run_container(name, labels={"owner": "olga"})
    sleep_pid = start_sleep(clean_fleet["h1"])
    try:
        async with ssh_runner(clean_fleet, "h1") as inner:
            runner = AuditedRunner(inner, AuditLog(default_audit_log()))
            target = container_target("h1", engine, cid)
            stopped = await runner.run(Verb.STOP, target)
            reused = await runner.run(Verb.TERM, process_target("h1", sleep_pid, -60.0))
    finally:
        stop_sleep(sleep_pid)
    assert stopped.outcome is Outcome.DONE
    assert container_state(engine, cid) == "exited"
    path = tmp_path / "clustertop" / "audit.jsonl"
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event"] for e in entries] == ["intent", "outcome"] * 2
    intent, first, _, second = entries
    assert first["action_id"] == intent["action_id"] != second["action_id"]
    # The intent line names the same action and target, written before anything was sent.
    same = ("local_user", "host", "action", "target")
    assert {k: intent[k] for k in same} == {k: first[k] for k in same}
    assert intent["time"] <= first["time"] and "outcome" not in intent
    assert {k: v for k, v in first.items() if k not in ("time", "action_id")} == {
        "event": "outcome",
        "local_user": getpass.getuser(),
        "host": "h1",
        "action": "stop",
        "target": {
            "kind": "container",
            "id": cid,
            "name": name,
            "image": "ctbox:latest",
            "state": "running",
            "owner": None,
            "engine": "docker",
            "rootless_user": None,
        },
        "outcome": "done",
        "detail": "container stopped",
    }
    assert isinstance(first["time"], float)
    assert (second["action"], second["outcome"]) == ("term", "changed")
    assert second["target"]["pid"] == sleep_pid
    assert second["detail"] == reused.detail
