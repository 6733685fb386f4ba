"""Log streams: long lines cut with a mark, clustertop's notices out of band, never as text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from clustertop.actions.local_runner import LocalLogStream
from clustertop.actions.model import ContainerTarget, Notice
from clustertop.actions.scripts import logs_command
from clustertop.actions.streams import MAX_LINE, cut_line, cut_mark, split_lines
from tests.actions.helpers import read_lines

TARGET = ContainerTarget("local", "ab" * 32, "x-job", "ctbox:latest", "running", None)


def _reader(chunks: list[str]) -> Callable[[], Awaitable[str | None]]:
    pending = list(chunks)

    async def read() -> str | None:
        return pending.pop(0) if pending else None

    return read


async def _split(chunks: list[str]) -> list[str]:
    return [line async for line in split_lines(_reader(chunks))]


async def test_a_long_line_keeps_its_start_and_says_how_much_was_cut() -> None:
    long = "a" * 65536
    # The 64 KiB line comes in pieces, as a pipe delivers it; the next line is whole.
    chunks = [long[:1000], long[1000:40000], long[40000:] + "\r\nnext\r\n", "tail"]
    lines = await _split(chunks)
    assert lines == [cut_line(long + "\r"), "next", "tail"]
    kept = MAX_LINE - len(cut_mark(65537))
    assert lines[0] == "a" * kept + cut_mark(65537 - kept)
    assert len(lines[0]) <= MAX_LINE and cut_line(lines[0]) == lines[0]
    assert cut_mark(5) == " [... line cut: 5 more characters]"


async def test_lines_at_the_limit_are_whole() -> None:
    exact = "b" * MAX_LINE
    assert await _split([exact[:10], exact[10:] + "\n"]) == [exact]
    assert cut_line(exact) == exact
    over = cut_line(exact + "c")
    kept = MAX_LINE - len(cut_mark(MAX_LINE + 1))
    assert over == "b" * kept + cut_mark(MAX_LINE + 1 - kept) and len(over) <= MAX_LINE


async def test_text_that_looks_like_a_notice_is_a_line() -> None:
    script = "printf 'clustertop: the log stream ended\\nclustertop: host not connected\\n'; exit\n"
    items = await read_lines(LocalLogStream(script, {"PATH": "/usr/bin:/bin"}))
    assert items == ["clustertop: the log stream ended", "clustertop: host not connected"]
    assert not any(isinstance(item, Notice) for item in items)


async def test_the_programs_own_words_are_notices() -> None:
    # What logs.sh does when docker is missing: its reason on stderr, which is out of band.
    script = "echo 'a log line'; printf 'docker: command not found on this host\\n' >&2; exit 1\n"
    assert await read_lines(LocalLogStream(script, {"PATH": "/usr/bin:/bin"})) == [
        "a log line",
        Notice("docker: command not found on this host"),
    ]
    assert """printf '%s\\n' "$why" >&2""" in logs_command(TARGET, 5)
