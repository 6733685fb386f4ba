"""What fills a disk, read-only: du under nice/ionice with a deadline, and docker system df."""

from __future__ import annotations

import asyncio
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

from clustertop.actions.model import ActionRunner, LogStream, Notice
from clustertop.model.diskusage import DirSize, DiskUsage, DockerUsage
from clustertop.parsers.diskusage import parse_docker_df_lines, parse_du_line
from clustertop.util.aio import within

END = "@ct-du-end"
"""The line the du program ends its output with, followed by du's exit status."""
DEADLINE_STATUS = 124
"""`timeout`'s exit status when the deadline stopped du."""
MAX_DEPTH = 6
"""Deepest listing offered (deeper lists grow past what a screen can show)."""
GRACE_S = 10.0
"""Seconds past the host-side deadline the client waits before closing the stream itself."""


def du_script(mount: str, depth: int, deadline_s: int) -> str:
    """The sh program: du -x -k -d DEPTH on the mount, niced, idle I/O class, bounded by
    `timeout` where the host has these tools; its status after the END line."""
    if not mount.startswith("/") or any(c in mount for c in "\0\n"):
        raise ValueError(f"not a mount point: {mount[:80]!r}")
    if not 0 <= depth <= MAX_DEPTH or deadline_s <= 0:
        raise ValueError(f"depth 0-{MAX_DEPTH} and a positive deadline, not {depth}/{deadline_s}")
    return "\n".join(
        [
            f"set -- du -x -k -d {depth} -- {shlex.quote(mount)}",
            f'command -v timeout >/dev/null 2>&1 && set -- timeout {deadline_s} "$@"',
            'command -v ionice >/dev/null 2>&1 && set -- ionice -c 3 "$@"',
            'command -v nice >/dev/null 2>&1 && set -- nice -n 19 "$@"',
            "cd / || exit 1",
            '"$@" </dev/null',
            f'echo "{END} $?"',
            "exit 0",
            "",
        ]
    )


_DOCKER_DF_FORMAT = "".join(
    "{{range .%s}}%s\t{{%s}}\t{{.%s}}\n{{end}}" % spec  # noqa: UP031 - Go template braces
    for spec in (
        ("Images", "images", ".Repository}}:{{.Tag", "UniqueSize"),
        ("Containers", "containers", ".Names", "Size"),
        ("Volumes", "volumes", ".Name", "Size"),
        ("BuildCache", "build cache", ".ID", "Size"),
    )
)
# One short line per item, not one JSON document: a host with hundreds of images would write
# a single line longer than a stream keeps (MAX_LINE).
DOCKER_DF_SCRIPT = (
    f"docker system df -v --format {shlex.quote(_DOCKER_DF_FORMAT)} </dev/null 2>&1\n"
    f'echo "{END} $?"\nexit 0\n'
)
"""The sh program asking Docker for its own share of the disk (read-only)."""


@dataclass(slots=True)
class Progress:
    """What a running scan has done so far (for the screen's progress line)."""

    dirs: int = 0
    """Directories du finished."""
    last: str = ""
    """The last one."""
    started: float = 0.0
    """Monotonic start."""


async def _collect(
    stream: LogStream, deadline_s: float, on_line: Callable[[str], None]
) -> tuple[int | None, list[str]]:
    status: int | None = None
    said: list[str] = []

    async def read() -> None:
        nonlocal status
        async for item in stream.lines():
            if isinstance(item, Notice):
                said.append(item.text)
            elif item.startswith(END + " "):
                status = int(item.split()[1]) if item.split()[1].isdigit() else None
            else:
                on_line(item)

    try:
        await within(read(), deadline_s + GRACE_S)
    except asyncio.TimeoutError:
        said.append(f"no end within {deadline_s + GRACE_S:g} s (the host has no `timeout`)")
    finally:
        await stream.aclose()
    return status, said


async def scan(
    runner: ActionRunner,
    host: str,
    mount: str,
    *,
    depth: int,
    deadline_s: int,
    progress: Progress | None = None,
) -> DiskUsage:
    """Run du on the host; every line read updates `progress` as it comes."""
    progress = progress or Progress()
    progress.started = time.monotonic()
    stream = runner.read_only_stream(host, du_script(mount, depth, deadline_s))
    dirs: list[DirSize] = []
    problems: list[str] = []

    def on_line(line: str) -> None:
        found = parse_du_line(line, mount)
        if found is None:
            problems.append(f"unread du line: {line[:200]}")
            return
        dirs.append(found)
        progress.dirs, progress.last = len(dirs), found.path

    status, said = (None, ["no way to run commands on this host"]) if stream is None else (
        await _collect(stream, deadline_s, on_line)
    )  # fmt: skip
    return DiskUsage(
        mount=mount,
        depth=depth,
        dirs=tuple(sorted(dirs, key=lambda d: d.size, reverse=True)),
        partial=status not in {0, 1},  # 1: some directory unreadable, the rest done
        seconds=time.monotonic() - progress.started,
        finished_at=time.time(),
        status=status,
        problems=tuple(said + problems),
    )


async def docker_usage(runner: ActionRunner, host: str, timeout_s: float = 60.0) -> DockerUsage:
    """Docker's share of the host's disks, or why it could not be read."""
    stream = runner.read_only_stream(host, DOCKER_DF_SCRIPT)
    if stream is None:
        return DockerUsage((), "no way to run commands on this host")
    lines: list[str] = []
    status, said = await _collect(stream, timeout_s, lines.append)
    text = "\n".join(lines).strip()
    if status != 0:
        return DockerUsage((), (text or "; ".join(said) or f"exit status {status}")[:300])
    return parse_docker_df_lines(lines)
