"""Checks on every value an action sends to a host: anything unexpected raises ValueError."""

from __future__ import annotations

import math
import re

CONTAINER_ID = re.compile(r"[0-9a-f]{64}")
"""A full container ID (what `docker ps --no-trunc` prints); prefixes are never accepted."""
CONTAINER_NAME = re.compile(r"/?[a-zA-Z0-9][a-zA-Z0-9_.-]*")
"""Docker's own rule for container names (the leading '/' of the API form is allowed)."""
PID_MAX = 4_194_304
"""Linux's largest possible PID (PID_MAX_LIMIT on 64-bit)."""
LATEST_START = 1e11
"""Later than any real start time (year 5138): a larger value is a unit mix-up."""
JOB_ID = re.compile(r"[1-9][0-9]{0,9}")
"""A Slurm job id (a plain job; array and het-job ids are cancelled by their own job id)."""
USER_NAME = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9_.@-]{0,63}\$?")
"""A Unix user name (POSIX portable characters, Samba's trailing $, AD's @)."""
SLURM_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}")
"""A time as Slurm prints it (StartTime, squeue %S)."""
MAX_LOG_LINES = 100_000
"""Most lines of log history asked for at once."""


def container_id(value: object) -> str:
    """A full 64-hex container ID, or ValueError."""
    if not isinstance(value, str) or not CONTAINER_ID.fullmatch(value):
        raise ValueError(f"not a full 64-hex container ID: {value!r}")
    return value


def container_name(value: object) -> str:
    """A container name as Docker allows them, or ValueError."""
    if not isinstance(value, str) or not CONTAINER_NAME.fullmatch(value):
        raise ValueError(f"not a Docker container name: {value!r}")
    return value


def pid(value: object) -> int:
    """A PID that may be signalled (never 1, init), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 < value <= PID_MAX:
        raise ValueError(f"not a PID that may be signalled (2..{PID_MAX}): {value!r}")
    return value


def start_time(value: object) -> float:
    """A finite, positive unix start time, or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a start time: {value!r}")
    number = float(value)
    if not math.isfinite(number) or not 0 < number < LATEST_START:
        raise ValueError(f"not a plausible unix start time: {value!r}")
    return number


def log_lines(value: object) -> int:
    """How many lines of log history to ask for (0 .. MAX_LOG_LINES), or ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOG_LINES:
        raise ValueError(f"not a line count (0..{MAX_LOG_LINES}): {value!r}")
    return value


def docker_host(value: object) -> str:
    """A DOCKER_HOST value: one line of printable text, or ValueError."""
    if not isinstance(value, str) or not value or any(c < " " or c == "\x7f" for c in value):
        raise ValueError(f"not a DOCKER_HOST value: {value!r}")
    return value


def job_id(value: object) -> str:
    """A Slurm job id (digits), or ValueError."""
    if not isinstance(value, str) or not JOB_ID.fullmatch(value):
        raise ValueError(f"not a Slurm job id: {value!r}")
    return value


def user_name(value: object) -> str:
    """A Unix user name, or ValueError."""
    if not isinstance(value, str) or not USER_NAME.fullmatch(value):
        raise ValueError(f"not a user name: {value!r}")
    return value


def slurm_time(value: object) -> str:
    """A Slurm time (YYYY-MM-DDTHH:MM:SS), or ValueError."""
    if not isinstance(value, str) or not SLURM_TIME.fullmatch(value):
        raise ValueError(f"not a Slurm start time: {value!r}")
    return value


ENGINES = ("docker", "podman")
"""The container engines an action may name (each is also the program it runs)."""


def engine(value: object) -> str:
    """A container engine clustertop acts through ("docker" or "podman"), or ValueError."""
    if value not in ENGINES:
        raise ValueError(f"not a container engine (docker or podman): {value!r}")
    return str(value)


def not_rootless(user: str | None) -> None:
    """ValueError when the container is another user's rootless podman container.

    Only that user's own podman sees and acts on it (root's does not), and clustertop never
    switches user: the refusal says whom to ask.
    """
    if user is not None:
        raise ValueError(
            f"rootless podman container of user {user!r}: only {user}'s own podman can act on "
            f"it (run clustertop as {user}, or ask them)"
        )
