"""The audit log: one JSON line per action result, and a runner that never acts unrecorded."""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

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
    kind = "container" if isinstance(target, ContainerTarget) else "process"
    return {"kind": kind, **fields}


def audit_entry(result: ActionResult, now: float, local_user: str) -> dict[str, Any]:
    """The JSON object recorded for one result."""
    return {
        "time": round(now, 3),
        "local_user": local_user,
        "host": result.target.host,
        "action": result.verb.value,
        "target": target_identity(result.target),
        "outcome": result.outcome.value,
        "detail": result.detail,
    }


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

    def record(self, result: ActionResult, *, now: float | None = None) -> None:
        """Append one line for `result`; AuditError (with the message to show) when it cannot."""
        if self.path is None:
            return
        entry = audit_entry(result, time.time() if now is None else now, _local_user())
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
    """Wraps a runner: refuses to act while the log is not writable, then records every result.

    A record that fails after the action (disk full in between) cannot undo it: the result comes
    back with the audit message added to its detail, so the user sees both.
    """

    def __init__(self, inner: ActionRunner, audit: AuditLog) -> None:
        self.inner = inner
        """The runner that acts."""
        self.audit = audit
        """Where results are recorded."""

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        try:
            self.audit.check()
        except AuditError as exc:
            return ActionResult(verb, target, Outcome.FAILED, f"{exc}: nothing done")
        result = await self.inner.run(verb, target)
        try:
            self.audit.record(result)
        except AuditError as exc:
            detail = f"{result.detail}; {exc}" if result.detail else str(exc)
            return dataclasses.replace(result, detail=detail)
        return result

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        return self.inner.logs(target, lines)
