"""Frames read off the probe's channel: one over the channel's buffer is skipped, not fatal."""

from __future__ import annotations

import asyncio
import functools
import re
from typing import cast

import asyncssh

READ_LIMIT = 2 * 1024 * 1024
"""The probe channel's receive window, in characters: asyncssh buffers at most this much, so a
frame must end within it to be read whole (a frame is a few KB; a hostile host user can make
one section far larger, e.g. with huge container labels)."""
_SEQ_DIGITS = 20
"""Longest frame sequence number, in digits."""
MARKER = r"@ct[0-9a-f]{16}"
"""What every marker probe.new_marker makes looks like."""
_ANY_END = re.compile(MARKER + r" d [0-9]+\n")
_READY = re.compile(MARKER + " (?:ready|fatal) ")
_READY_LONGEST = len("@ct") + 16 + len(" ready ")


async def read_frame(reader: asyncssh.SSHReader[str], end: str) -> tuple[str, bool]:
    """Everything up to and including the line `end` (`M d SEQ`, newline included).

    Returns (the frame, False); for a frame over READ_LIMIT, (its first READ_LIMIT characters,
    True) once the rest has been skipped up to `end`. Raises IncompleteReadError at EOF.
    """
    separator, longest = _end_of_frame(end)
    text = ""
    try:
        while not text.endswith(end):  # another frame's end line: read on, as a string would
            text += await reader.readuntil(separator, longest)
        return text, False
    except asyncio.IncompleteReadError as exc:
        if reader.at_eof():
            raise
        # asyncssh gave up at READ_LIMIT without the end (the channel is in text mode): skip on.
        first = text + cast(str, exc.partial)
    await _skip_to(reader, end, first.rpartition("\n")[2])
    return first, True


async def read_ready(reader: asyncssh.SSHReader[str], marker: str) -> str:
    """Everything up to and including the probe's `MARKER ready ` or `MARKER fatal `."""
    wanted = (f"{marker} ready ", f"{marker} fatal ")
    if not re.fullmatch(MARKER, marker):
        return await reader.readuntil(list(wanted))
    # One pattern compiled once, not one per host: a line with another marker reads on.
    text = ""
    while not text.endswith(wanted):
        text += await reader.readuntil(_READY, _READY_LONGEST)
    return text


@functools.lru_cache(maxsize=4096)  # one marker per connected host
def _end_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + r"[0-9]+\n")


def _end_of_frame(end: str) -> tuple[re.Pattern[str] | str, int]:
    """What readuntil looks for, and its longest match. asyncssh compiles a string separator
    into a regex on every call, and every frame's end line is new ('M d SEQ'): one pattern
    matches them all (~5 % of an idle TUI's CPU went to re.compile, ~15 % of the client's CPU
    at 1,000 hosts), compiled once for every marker new_marker makes (compiling one per host
    cost ~3 % of the client's CPU until cold start at 1,000 hosts), else once per marker."""
    prefix, _, seq = end.rpartition(" ")
    if not prefix or not seq[:-1].isdigit() or not seq.endswith("\n"):
        return end, len(end)
    longest = len(prefix) + 1 + _SEQ_DIGITS + 1
    if prefix.endswith(" d") and re.fullmatch(MARKER, prefix[:-2]):
        return _ANY_END, longest
    return _end_pattern(prefix + " "), longest


async def _skip_to(reader: asyncssh.SSHReader[str], end: str, line: str) -> None:
    # Line by line, so that `end` is found only as a whole line and never missed where it
    # straddles two reads; `line` is the start of the line the first read stopped in. A line
    # longer than the buffer comes in pieces: it is not `end`, and only its length is kept.
    overlong = len(line) > len(end)
    while True:
        piece = await reader.readline()  # up to READ_LIMIT characters; "" at EOF
        if not piece:
            raise asyncio.IncompleteReadError(b"", None)
        if not piece.endswith("\n"):
            overlong = overlong or len(line) + len(piece) > len(end)
            line = "" if overlong else line + piece
            continue
        if not overlong and line + piece == end:
            return
        line, overlong = "", False
