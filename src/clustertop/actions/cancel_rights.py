"""Who may scancel on a host: the acting user, scancel on PATH, the Slurm admin level (cached)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from clustertop.actions.model import ActionRunner, Notice
from clustertop.util.aio import within

RIGHTS_PREFIX = "CTRIGHTS "
"""Starts the one line the rights program prints: `CTRIGHTS <uid> <scancel 0|1> <level> <user>`."""
DEADLINE_S = 10.0
"""How long the rights program may take (sacctmgr may wait on a slow slurmdbd)."""
KEEP_S = 300.0
"""How long an answer is kept per host (an admin level rarely changes)."""
OPERATOR_LEVELS = frozenset({"operator", "administrator"})
"""Slurm admin levels that may cancel any job."""

RIGHTS_SCRIPT = resources.files("clustertop.actions").joinpath("slurm_rights.sh").read_text()
"""The rights program; prints one CTRIGHTS line."""


@dataclass(frozen=True, slots=True)
class CancelRights:
    """What the acting user on a host may do with scancel."""

    user: str
    """The acting user's name (root through the host's configured sudo)."""
    root: bool
    """True when acting as uid 0."""
    has_scancel: bool
    """True when scancel is on the host's PATH."""
    level: str | None
    """Slurm admin level (Administrator, Operator, None); None when it could not be read."""

    @property
    def operator(self) -> bool:
        """True when Slurm lets this user cancel anyone's job."""
        return self.root or (self.level or "").lower() in OPERATOR_LEVELS


def parse_rights(lines: list[str]) -> CancelRights | None:
    """The rights the program's output says; None when it has no well-formed line."""
    found = [line for line in lines if line.startswith(RIGHTS_PREFIX)]
    words = found[-1][len(RIGHTS_PREFIX) :].split(" ", 3) if found else []
    if len(words) != 4 or words[1] not in {"0", "1"}:
        return None
    uid, scancel, level, user = words
    return CancelRights(user.strip(), uid == "0", scancel == "1", None if level == "?" else level)


def refusal(rights: CancelRights | None, job_id: str, job_user: str | None) -> str | None:
    """Why scancel is not offered for this job; None when it is (unknown rights: offered,
    the host's own refusal shown after, as before this check)."""
    if rights is None:
        return None
    if not rights.has_scancel:
        return "scancel: command not found on this host"
    if rights.operator or rights.level is None or job_user == rights.user:
        return None
    owner = job_user or "another user"
    return (
        f"job {job_id} belongs to {owner}: only {owner}, root or a Slurm operator may cancel it "
        f"(you act as {rights.user})"
    )


async def read_rights(runner: ActionRunner, host: str) -> CancelRights | None:
    """Run the rights program on `host` (as the actions would act); None when it cannot say."""
    sudo = "SUDO=1\n" if runner.acts_with_sudo(host) else "SUDO=0\n"
    stream = runner.read_only_stream(host, sudo + RIGHTS_SCRIPT)
    if stream is None:
        return None
    lines: list[str] = []

    async def read() -> None:
        async for item in stream.lines():
            if not isinstance(item, Notice):
                lines.append(item)

    try:
        await within(read(), DEADLINE_S)
    except (asyncio.TimeoutError, OSError):
        return None
    finally:
        await stream.aclose()
    return parse_rights(lines)


class RightsCache:
    """Cancel rights per host, read once in the background and kept KEEP_S seconds."""

    def __init__(self, runner: ActionRunner, clock: Callable[[], float] = time.monotonic) -> None:
        self._runner = runner
        self._clock = clock
        self._known: dict[str, tuple[float, CancelRights | None]] = {}
        self._reading: dict[str, asyncio.Task[None]] = {}

    def get(self, host: str, on_known: Callable[[], None] | None = None) -> CancelRights | None:
        """The host's rights when known; else starts reading them (calls `on_known` after)."""
        kept = self._known.get(host)
        if kept is not None and self._clock() - kept[0] < KEEP_S:
            return kept[1]
        if host not in self._reading:
            self._reading[host] = asyncio.get_running_loop().create_task(self._read(host, on_known))
        return kept[1] if kept is not None else None

    async def _read(self, host: str, on_known: Callable[[], None] | None) -> None:
        try:
            rights = await read_rights(self._runner, host)
        finally:
            self._reading.pop(host, None)
        self._known[host] = (self._clock(), rights)
        if on_known is not None:
            with contextlib.suppress(Exception):
                on_known()

    def known(self, host: str) -> bool:
        """True once the host's rights were read (or found unreadable)."""
        return host in self._known

    async def wait(self, host: str) -> CancelRights | None:
        """Read (or wait for) the host's rights now."""
        self.get(host)
        task = self._reading.get(host)
        if task is not None:
            await task
        kept = self._known.get(host)
        return kept[1] if kept is not None else None
