"""The audit log: an intent line before each action, its outcome after; nothing acts unrecorded."""

from __future__ import annotations

import contextlib
import dataclasses
import getpass
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from clustertop.actions.job_target import JobTarget
from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    LogStream,
    Outcome,
    Target,
    Verb,
)


class AuditError(Exception):
    """The audit log cannot be written; str() is the message to show the user."""


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        return str(os.getuid())


def target_identity(target: Target) -> dict[str, Any]:
    """The identity of a target, as recorded: its kind and every captured field but the host."""
    fields = {k: v for k, v in dataclasses.asdict(target).items() if k != "host"}
    kind = (
        "container"
        if isinstance(target, ContainerTarget)
        else "slurm-job"
        if isinstance(target, JobTarget)
        else "process"
    )
    return {"kind": kind, **fields}


WEB_PEER_ENV = "CLUSTERTOP_WEB_PEER"
"""Set by `clustertop serve` for a browser session: the peer's address, recorded per entry."""


def served_fields() -> dict[str, Any]:
    """`served` and `web_peer` when this clustertop runs for a browser (env WEB_PEER_ENV)."""
    peer = os.environ.get(WEB_PEER_ENV)
    return {"served": "web", "web_peer": peer} if peer else {}


def _common(verb: Verb, target: Target, event: str, action_id: str, now: float) -> dict[str, Any]:
    return {
        "time": round(now, 3),
        "event": event,
        "action_id": action_id,
        "local_user": _local_user(),
        "host": target.host,
        "action": verb.value,
        "target": target_identity(target),
    }


def intent_entry(verb: Verb, target: Target, action_id: str, now: float) -> dict[str, Any]:
    """The JSON object recorded before `verb` is sent to `target`."""
    return _common(verb, target, "intent", action_id, now) | served_fields()


def audit_entry(result: ActionResult, now: float, action_id: str = "") -> dict[str, Any]:
    """The JSON object recorded for one result (action_id: that of its intent line)."""
    return (
        _common(result.verb, result.target, "outcome", action_id, now)
        | {"outcome": result.outcome.value, "detail": result.detail}
        | served_fields()
    )


def new_action_id() -> str:
    """A fresh ID tying an outcome line to its intent line."""
    return uuid.uuid4().hex[:16]


class AuditLog:
    """Appends JSON lines to a file only its owner can read; path None records nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        """The JSON-lines file, or None (auditing off)."""

    def _open(self) -> int:
        assert self.path is not None
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as exc:
            raise AuditError(
                f"audit log not writable: {self.path}: {exc.strerror or exc}"
            ) from None

    def check(self) -> None:
        """Raise AuditError unless a record could be written now (folder and file created)."""
        if self.path is not None:
            os.close(self._open())

    def record_intent(
        self, verb: Verb, target: Target, action_id: str, *, now: float | None = None
    ) -> None:
        """Append the line saying `verb` is about to be sent to `target`; AuditError if not."""
        self._append(intent_entry(verb, target, action_id, time.time() if now is None else now))

    def record(
        self, result: ActionResult, *, action_id: str = "", now: float | None = None
    ) -> None:
        """Append one line for `result`; AuditError (with the message to show) when it cannot."""
        self._append(audit_entry(result, time.time() if now is None else now, action_id))

    def _append(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        # ensure_ascii: every control, format or bidi character and lone surrogate of host
        # text becomes a \uXXXX escape; the file is plain ASCII whatever the hosts sent.
        line = (json.dumps(entry, ensure_ascii=True, sort_keys=False) + "\n").encode()
        fd = self._open()
        try:
            # One write of an O_APPEND file: lines of two clustertops never interleave.
            written = os.write(fd, line)
            if written != len(line):
                raise AuditError(f"audit log not writable: {self.path}: short write")
        except OSError as exc:
            raise AuditError(
                f"audit log not writable: {self.path}: {exc.strerror or exc}"
            ) from None
        finally:
            os.close(fd)


class AuditedRunner(ActionRunner):
    """Wraps a runner: an intent line before each action, its outcome after, or no action.

    The action and its outcome line run in a task shielded from cancellation: quitting while a
    `docker stop` is under way still leaves both lines. A record that fails after the action
    (disk full in between) cannot undo it: the result comes back with the audit message added to
    its detail, so the user sees both.
    """

    def __init__(self, inner: ActionRunner, audit: AuditLog) -> None:
        self.inner = inner
        """The runner that acts."""
        self.audit = audit
        """Where intents and results are recorded."""
        self.timeout = inner.timeout

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        action_id = new_action_id()
        try:
            self.audit.record_intent(verb, target, action_id)
        except AuditError as exc:
            return ActionResult(verb, target, Outcome.FAILED, f"{exc}: nothing done")
        return await self.shielded(self._act_and_record(verb, target, action_id))

    async def act(self, verb: Verb, target: Target) -> ActionResult:
        # run() shields itself (once its intent is written); no second task around it.
        if self.closing:
            return ActionResult(verb, target, Outcome.FAILED, "not sent: clustertop is quitting")
        return await self.run(verb, target)

    async def _act_and_record(self, verb: Verb, target: Target, action_id: str) -> ActionResult:
        try:
            result = await self.inner.run(verb, target)
        except BaseException as exc:
            # A runner bug (or the loop going away) still leaves an outcome line for the intent.
            lost = ActionResult(verb, target, Outcome.FAILED, f"no result: {exc!r}")
            with contextlib.suppress(AuditError):
                self.audit.record(lost, action_id=action_id)
            raise
        try:
            self.audit.record(result, action_id=action_id)
        except AuditError as exc:
            detail = f"{result.detail}; {exc}" if result.detail else str(exc)
            return dataclasses.replace(result, detail=detail)
        return result

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        return self.inner.logs(target, lines)

    def read_only_stream(self, host: str, script: str) -> LogStream | None:
        return self.inner.read_only_stream(host, script)

    def acts_with_sudo(self, host: str) -> bool:
        return self.inner.acts_with_sudo(host)
