"""Intent before, outcome after: an action cancelled by quitting still runs and is still recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from clustertop.actions.audit import WEB_PEER_ENV, AuditedRunner, AuditLog
from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    Outcome,
    ProcessTarget,
    Target,
    Verb,
)

CID = "ab" * 32
CONTAINER = ContainerTarget("gpu01", CID, "alice-train", "ctbox:latest", "running", "alice")


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class GatedRunner(ActionRunner):
    """Stands in for a slow host: each action waits for `release`, noting what the log held."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.seen_at_start: list[dict[str, object]] = []
        self.done: list[Target] = []

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        self.seen_at_start = _lines(self.log_path)
        self.started.set()
        await self.release.wait()
        self.done.append(target)
        return ActionResult(verb, target, Outcome.DONE, "container stopped")


async def test_intent_is_on_disk_before_the_action_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inner = GatedRunner(path)
    runner = AuditedRunner(inner, AuditLog(path))
    inner.release.set()
    result = await runner.run(Verb.STOP, CONTAINER)
    assert result.outcome is Outcome.DONE
    (intent,) = inner.seen_at_start
    assert (intent["event"], intent["action"], intent["host"]) == ("intent", "stop", "gpu01")
    assert "outcome" not in intent
    first, second = _lines(path)
    assert first == intent
    assert (second["event"], second["outcome"]) == ("outcome", "done")
    assert second["action_id"] == intent["action_id"]


async def test_cancelled_caller_leaves_the_action_running_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inner = GatedRunner(path)
    runner = AuditedRunner(inner, AuditLog(path))
    caller = asyncio.ensure_future(runner.run_all(Verb.STOP, [CONTAINER]))
    await asyncio.wait_for(inner.started.wait(), 10)
    caller.cancel()  # what quitting does to the worker that asked
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert len(runner.in_flight) == 1, "the action goes on after its caller is gone"
    runner.close()
    inner.release.set()
    assert await runner.settle(10) == 0
    assert inner.done == [CONTAINER]
    assert [(e["event"], e.get("outcome")) for e in _lines(path)] == [
        ("intent", None),
        ("outcome", "done"),
    ]


async def test_settle_gives_up_after_its_bound(tmp_path: Path) -> None:
    inner = GatedRunner(tmp_path / "audit.jsonl")
    runner = AuditedRunner(inner, AuditLog(tmp_path / "audit.jsonl"))
    caller = asyncio.ensure_future(runner.run(Verb.STOP, CONTAINER))
    await asyncio.wait_for(inner.started.wait(), 10)
    assert await runner.settle(0.01) == 1
    inner.release.set()
    assert (await caller).outcome is Outcome.DONE


async def test_nothing_new_is_sent_once_closing(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inner = GatedRunner(path)
    runner = AuditedRunner(inner, AuditLog(path))
    runner.close()
    (result,) = await runner.run_all(Verb.STOP, [CONTAINER])
    assert (result.outcome, result.detail) == (Outcome.FAILED, "not sent: clustertop is quitting")
    assert inner.done == [] and _lines(path) == []


async def test_web_session_is_named_in_both_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    inner = GatedRunner(path)
    inner.release.set()
    monkeypatch.setenv(WEB_PEER_ENV, "127.0.0.1:51234")
    await AuditedRunner(inner, AuditLog(path)).run(Verb.STOP, CONTAINER)
    monkeypatch.delenv(WEB_PEER_ENV)
    await AuditedRunner(inner, AuditLog(path)).run(Verb.STOP, CONTAINER)
    entries = _lines(path)
    assert [(e.get("served"), e.get("web_peer")) for e in entries] == [
        ("web", "127.0.0.1:51234"),
        ("web", "127.0.0.1:51234"),
        (None, None),
        (None, None),
    ]


def test_hostile_host_text_is_escaped_ascii_and_valid_json(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    # Bidi override, zero-width space, line separator, ESC, and a lone surrogate (undecodable
    # argv byte as Python's surrogateescape keeps it).
    command = "python \u202etxt.exe\u200b\u2028\x1b[2J \udc9b31m"
    target = ProcessTarget("gpu02", 4242, 1_700_000_000.25, "bob", command)
    AuditLog(path).record(ActionResult(Verb.TERM, target, Outcome.DONE, "\u202edone"))
    raw = path.read_bytes()
    assert raw.isascii() and raw.count(b"\n") == 1
    assert b"\\u202e" in raw and b"\\udc9b" in raw and b"\\u001b" in raw
    (entry,) = _lines(path)
    assert entry["target"]["command"] == command  # type: ignore[index]
