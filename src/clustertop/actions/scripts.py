"""The sh programs that act on a host (validated, quoted; one result line) and their answers."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from importlib import resources

from clustertop.actions import validate
from clustertop.actions.job_target import JobTarget
from clustertop.actions.model import (
    ActionResult,
    ContainerTarget,
    Outcome,
    ProcessTarget,
    Target,
    Verb,
)

REMOTE_COMMAND = "exec /bin/sh -s"
"""What an exec channel runs; the program arrives on stdin (works from any login shell)."""
RESULT_PREFIX = "CTRESULT "
"""Starts the one line an action program prints: `CTRESULT <outcome> <detail>`."""
MAX_DETAIL = 500
"""Characters of a host's message kept in a result."""

_CONTAINER_ACTS: Mapping[Verb, str] = {
    Verb.STOP: "stop",
    Verb.KILL: "kill",
    Verb.RESTART: "restart",
    Verb.REMOVE: "rm",
    Verb.FORCE_REMOVE: "rm-f",
}
_SIGNALS: Mapping[Verb, str] = {Verb.TERM: "TERM", Verb.SIGKILL: "KILL"}


def _program(body: str, params: Mapping[str, str]) -> str:
    """Quoted parameter assignments, the prelude, then `body` (files shipped with the package)."""
    head = "".join(f"{name}={shlex.quote(value)}\n" for name, value in params.items())
    folder = resources.files("clustertop.actions")
    return head + folder.joinpath("prelude.sh").read_text() + folder.joinpath(body).read_text()


def _common(sudo: bool, docker_host: str | None) -> dict[str, str]:
    host = validate.docker_host(docker_host) if docker_host is not None else ""
    return {"SUDO": "1" if sudo else "0", "DOCKERHOST": host}


def action_script(
    verb: Verb, target: Target, *, sudo: bool = False, docker_host: str | None = None
) -> str:
    """The sh program that re-checks `target` on its host, applies `verb`, prints one result line.

    Raises ValueError (before any text is built) for a verb that does not fit the target or a
    value that is not what it must be: a full 64-hex ID, a Docker name, a PID above 1, a finite
    start time. `docker_host` (a host's configured DOCKER_HOST) overrides the host's own.
    """
    params = _common(sudo, docker_host)
    if isinstance(target, ContainerTarget):
        if verb not in _CONTAINER_ACTS:
            raise ValueError(f"{verb} does not apply to a container")
        validate.not_rootless(target.rootless_user)
        params |= {
            "ACT": _CONTAINER_ACTS[verb],
            "ID": validate.container_id(target.id),
            "NAME": validate.container_name(target.name),
            "ENGINE": validate.engine(target.engine),
        }
        return _program("container.sh", params)
    if isinstance(target, ProcessTarget):
        if verb not in _SIGNALS:
            raise ValueError(f"{verb} does not apply to a process")
        params |= {
            "PID": str(validate.pid(target.pid)),
            "START": f"{validate.start_time(target.start_time):.3f}",
            "SIG": _SIGNALS[verb],
        }
        return _program("process.sh", params)
    if isinstance(target, JobTarget):
        if verb is not Verb.CANCEL:
            raise ValueError(f"{verb} does not apply to a Slurm job")
        params |= {
            "JOB": validate.job_id(target.job_id),
            "JOBUSER": validate.user_name(target.user),
            "JOBSTART": validate.slurm_time(target.start_time),
        }
        return _program("slurm_job.sh", params)
    raise ValueError(f"not an action target: {target!r}")


def logs_command(
    target: ContainerTarget,
    lines: int = 200,
    *,
    timestamps: bool = True,
    sudo: bool = False,
    docker_host: str | None = None,
) -> str:
    """The sh program for `docker logs --tail N --follow [--timestamps] <full id>` (podman's
    for a podman container).

    Its output is the container's stdout and stderr merged, as they come. Timestamps are on by
    default: when a container last printed is what tells a stale job from a quiet one. The
    program runs until the log ends or its stdin reaches EOF (the channel closed), so a closed
    viewer leaves no `docker logs` behind on the host. Raises ValueError like action_script.
    """
    validate.not_rootless(target.rootless_user)
    params = _common(sudo, docker_host) | {
        "ENGINE": validate.engine(target.engine),
        "ID": validate.container_id(target.id),
        "LINES": str(validate.log_lines(lines)),
        "TS": "1" if timestamps else "0",
    }
    return _program("logs.sh", params)


def one_line(text: str) -> str:
    """A host's message as one bounded line (the first non-empty line, trimmed)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= MAX_DETAIL else first[: MAX_DETAIL - 1] + "…"


def parse_result(
    verb: Verb, target: Target, stdout: str, stderr: str = "", exit_status: int | None = None
) -> ActionResult:
    """The ActionResult an action program's output describes (its last CTRESULT line).

    With no result line the program did not run to its end (no /bin/sh, killed): failed, with
    the host's stderr or the exit status as the reason.
    """
    # Split on newlines only: splitlines() would also split on U+2028 and friends, letting host
    # text inside a detail pose as a result line of its own.
    found = [line for line in stdout.split("\n") if line.startswith(RESULT_PREFIX)]
    if found:
        word, _, detail = found[-1][len(RESULT_PREFIX) :].partition(" ")
        try:
            outcome = Outcome(word)
        except ValueError:
            return ActionResult(verb, target, Outcome.FAILED, f"unknown result {one_line(word)!r}")
        return ActionResult(verb, target, outcome, one_line(detail.removesuffix("\r")))
    reason = one_line(stderr) or f"no result from the host (exit status {exit_status})"
    return ActionResult(verb, target, Outcome.FAILED, reason)
