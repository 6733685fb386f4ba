"""Log stream parts both runners share: bounded lines from chunks, notices, a notice stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from clustertop.actions.model import LogItem, LogStream, Notice

MAX_LINE = 4096
"""Characters of one log line kept; the rest is dropped and counted in a visible mark."""
MAX_NOTICE_TEXT = 4096
"""Characters of a log program's own messages (its stderr) read at the end of a stream."""


def cut_mark(dropped: int) -> str:
    """What ends a line that was cut: says how much of it is not shown.

    ASCII only: Rich measures an all-ASCII line at C speed, one with "…" character by character
    (4 KiB lines under a flood made that most of the CPU).
    """
    return f" [... line cut: {dropped} more characters]"


def cut_line(line: str, limit: int = MAX_LINE) -> str:
    """`line`, or as much of its start as fits with the cut mark in `limit` characters."""
    if len(line) <= limit:
        return line
    return _cut(line, len(line), limit)


def _cut(head: str, total: int, limit: int) -> str:
    """The start of a `total`-character line (`head` holds its start) and the mark: <= limit."""
    keep = max(limit - len(cut_mark(total)), 0)  # the mark's digits for `total` never undercount
    return head[:keep] + cut_mark(total - keep)


def _keep(head: str, dropped: int, piece: str, limit: int) -> tuple[str, int]:
    room = max(limit - len(head), 0)
    if len(piece) <= room:
        return head + piece, dropped
    return head + piece[:room], dropped + len(piece) - room


def _finish(head: str, dropped: int, limit: int) -> str:
    if len(head) + dropped <= limit:
        return head.removesuffix("\r")
    return _cut(head, len(head) + dropped, limit)


async def split_lines(
    read: Callable[[], Awaitable[str | None]], limit: int = MAX_LINE
) -> AsyncIterator[str]:
    """Lines (without newline) from `read`, which returns text chunks and None at the end.

    A line longer than `limit` keeps its start and a mark saying how much was cut, `limit`
    characters in all (as cut_line()): memory stays bounded by `limit` plus one chunk however
    long a line is (a flood of 64 KiB lines).
    """
    head, dropped = "", 0
    while (chunk := await read()) is not None:
        *complete, rest = chunk.split("\n")
        for piece in complete:
            yield _finish(*_keep(head, dropped, piece, limit), limit)
            head, dropped = "", 0
        head, dropped = _keep(head, dropped, rest, limit)
    if head or dropped:
        yield _finish(head, dropped, limit)


def notices(stderr: str) -> list[Notice]:
    """The log program's own messages (its stderr: docker missing...), one notice per line."""
    return [Notice(line.strip()) for line in stderr.split("\n") if line.strip()]


class NoticeStream(LogStream):
    """No log: one notice saying why (host not connected, target refused), then the end."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        """Why there is no log."""

    async def lines(self) -> AsyncIterator[LogItem]:
        yield Notice(self.reason)

    async def aclose(self) -> None:
        return None
