"""The audit log: one private JSON line per result; an unwritable log stops actions, visibly."""

from __future__ import annotations

import getpass
import json
import stat
from pathlib import Path

import pytest

from clustertop.actions.audit import AuditedRunner, AuditError, AuditLog
from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    Outcome,
    ProcessTarget,
    Target,
    Verb,
)
from clustertop.config.settings import default_audit_log
from tests.reliability import record

CID = "ab" * 32
CONTAINER = ContainerTarget("gpu01", CID, "alice-train", "ctbox:latest", "running", "alice")
PROCESS = ProcessTarget("gpu02", 4242, 1_700_000_000.25, "bob", "python x.py", "bob", "bob-job")


class CountingRunner(ActionRunner):
    """Says done to everything and counts what it was asked (stands in for a host)."""

    def __init__(self) -> None:
        self.calls: list[tuple[Verb, Target]] = []

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        self.calls.append((verb, target))
        return ActionResult(verb, target, Outcome.DONE, "container stopped")


def _lines(path: Path, event: str | None = None) -> list[dict[str, object]]:
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in entries if event is None or e["event"] == event]


def test_one_line_per_result_with_identity_and_private_modes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = default_audit_log()
    log = AuditLog(path)
    log.record(
        ActionResult(Verb.STOP, CONTAINER, Outcome.DONE, "container stopped"),
        action_id="a1",
        now=100.5,
    )
    log.record(ActionResult(Verb.TERM, PROCESS, Outcome.CHANGED, "PID reused"), now=101.0)
    first, second = _lines(path)
    assert first == {
        "time": 100.5,
        "event": "outcome",
        "action_id": "a1",
        "local_user": getpass.getuser(),
        "host": "gpu01",
        "action": "stop",
        "target": {
            "kind": "container",
            "id": CID,
            "name": "alice-train",
            "image": "ctbox:latest",
            "state": "running",
            "owner": "alice",
            "engine": "docker",
            "rootless_user": None,
        },
        "outcome": "done",
        "detail": "container stopped",
    }
    assert second["target"] == {
        "kind": "process",
        "pid": 4242,
        "start_time": 1_700_000_000.25,
        "user": "bob",
        "command": "python x.py",
        "owner": "bob",
        "container": "bob-job",
    }
    assert (second["action"], second["outcome"]) == ("term", "changed")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_host_text_cannot_forge_a_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")
    log.record(ActionResult(Verb.STOP, CONTAINER, Outcome.FAILED, 'x\n{"outcome": "done"}'))
    (entry,) = _lines(tmp_path / "a.jsonl")
    assert entry["detail"] == 'x\n{"outcome": "done"}'


def test_no_path_records_nothing(tmp_path: Path) -> None:
    AuditLog(None).record(ActionResult(Verb.STOP, CONTAINER, Outcome.DONE))
    AuditLog(None).check()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_log_raises_the_message_to_show(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder should be: fails even for root
    log = AuditLog(blocker / "clustertop" / "audit.jsonl")
    with pytest.raises(AuditError, match=r"^audit log not writable: .*audit\.jsonl: "):
        log.record(ActionResult(Verb.STOP, CONTAINER, Outcome.DONE))


@pytest.mark.reliability
async def test_audited_runner_records_every_result_of_run_all(tmp_path: Path) -> None:
    inner = CountingRunner()
    runner = AuditedRunner(inner, AuditLog(tmp_path / "audit.jsonl"))
    other = ContainerTarget("gpu02", "cd" * 32, "bob-x", "i", "running", "bob")
    results = await runner.run_all(Verb.STOP, [CONTAINER, other])
    assert [r.outcome for r in results] == [Outcome.DONE, Outcome.DONE]
    entries = _lines(tmp_path / "audit.jsonl", "outcome")
    assert [e["host"] for e in entries] == ["gpu01", "gpu02"]
    record("lost", "audit-every-action", "every result of a multi-target action has its line")


async def test_audited_runner_does_nothing_while_the_log_is_unwritable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    inner = CountingRunner()
    runner = AuditedRunner(inner, AuditLog(tmp_path / "file" / "audit.jsonl"))
    result = await runner.run(Verb.STOP, CONTAINER)
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("audit log not writable: ")
    assert result.detail.endswith("nothing done")
    assert inner.calls == []


class LogBreakingRunner(CountingRunner):
    """Acts, and meanwhile the audit file becomes a folder (as if replaced under our feet)."""

    def __init__(self, log_path: Path) -> None:
        super().__init__()
        self.log_path = log_path

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        self.log_path.unlink()
        self.log_path.mkdir()
        return await super().run(verb, target)


async def test_record_failing_after_the_action_is_shown_with_the_result(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    inner = LogBreakingRunner(path)
    result = await AuditedRunner(inner, AuditLog(path)).run(Verb.STOP, CONTAINER)
    assert result.outcome is Outcome.DONE, "the action happened; the result says so"
    assert result.detail.startswith("container stopped; audit log not writable: ")
    assert len(inner.calls) == 1
