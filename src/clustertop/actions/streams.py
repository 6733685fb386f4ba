"""Log stream parts both runners share: lines from chunks, and a stream that only says why not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from clustertop.actions.model import LogStream

MAX_LINE = 65536
"""Longest line yielded whole; a longer one comes in pieces (no unbounded buffer)."""
NOTICE_PREFIX = "clustertop: "
"""Starts a line that clustertop, not the container, wrote into a log stream."""


async def split_lines(read: Callable[[], Awaitable[str | None]]) -> AsyncIterator[str]:
    """Lines (without newline) from `read`, which returns text chunks and None at the end."""
    pending = ""
    while (chunk := await read()) is not None:
        pending += chunk
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line.removesuffix("\r")
        while len(pending) > MAX_LINE:
            yield pending[:MAX_LINE]
            pending = pending[MAX_LINE:]
    if pending:
        yield pending.removesuffix("\r")


class NoticeStream(LogStream):
    """No log: one line saying why (host not connected, target refused), then the end."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        """Why there is no log."""

    async def lines(self) -> AsyncIterator[str]:
        yield NOTICE_PREFIX + self.reason

    async def aclose(self) -> None:
        return None
