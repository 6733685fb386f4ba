"""Docker's timestamps and its human status line ("Up 3 minutes", "Exited (137) 5 days ago")."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from typing import Any

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$"
)


def parse_docker_time(value: object) -> float | None:
    """RFC 3339 with nanoseconds ('2019-03-07T03:59:11.534433546Z') -> unix time.

    Docker's zero time '0001-01-01T00:00:00Z' (never started/finished), empty and malformed
    values -> None.
    """
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    if year <= 1:
        return None
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    fraction = float(f"0.{match.group(7)}") if match.group(7) else 0.0
    zone = match.group(8)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds + fraction


def human_duration(seconds: float) -> str:
    """Docker's (go-units) HumanDuration: '45 seconds', 'About an hour', '3 weeks'."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def _since(now: float, then: float | None) -> str:
    return human_duration(now - then) if then is not None else human_duration(0)


def _exit_code(state: Mapping[str, Any]) -> int:
    code = state.get("ExitCode")
    return code if isinstance(code, int) else 0


def human_status(state: Mapping[str, Any], now: float) -> str:
    """The Status column of `docker ps` for an inspect `State` object, as of unix time `now`.

    Mirrors the daemon's State.String(): "Up 3 minutes", "Up 2 hours (Paused)", "Up 5 seconds
    (health: starting)", "Restarting (1) 3 seconds ago", "Removal In Progress", "Dead",
    "Created", "Exited (137) 5 days ago".
    """
    started = parse_docker_time(state.get("StartedAt"))
    finished = parse_docker_time(state.get("FinishedAt"))
    if state.get("Running"):
        if state.get("Paused"):
            return f"Up {_since(now, started)} (Paused)"
        if state.get("Restarting"):
            return f"Restarting ({_exit_code(state)}) {_since(now, finished)} ago"
        health = state.get("Health")
        if isinstance(health, Mapping) and health.get("Status"):
            status = str(health["Status"])
            label = "health: starting" if status == "starting" else status
            return f"Up {_since(now, started)} ({label})"
        return f"Up {_since(now, started)}"
    if state.get("Status") == "removing":
        return "Removal In Progress"
    if state.get("Dead"):
        return "Dead"
    if started is None:
        return "Created"
    if finished is None:
        return ""
    return f"Exited ({_exit_code(state)}) {_since(now, finished)} ago"


def state_name(state: Mapping[str, Any]) -> str:
    """State.Status ('running', 'exited', ...), derived from the flags when it is absent."""
    status = state.get("Status")
    if isinstance(status, str) and status:
        return status
    if state.get("Running"):
        if state.get("Paused"):
            return "paused"
        return "restarting" if state.get("Restarting") else "running"
    if state.get("Dead"):
        return "dead"
    return "created" if parse_docker_time(state.get("StartedAt")) is None else "exited"
