"""Following a container's log over SSH: history, new lines as they come, nothing left behind."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from tests.actions.helpers import (
    BUSY_LOGGER,
    container_target,
    read_lines,
    ssh_runner,
    without_timestamp,
)
from tests.fleet.fleet import Fleet
from tests.waiting import async_wait_for, wait_for

LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+Z line (\d+)$")


def docker_logs_processes(cid: str) -> list[int]:
    """PIDs of `docker ... logs ... <cid>` processes on this machine (every fleet host's)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"logs" in argv and cid.encode() in argv:
            found.append(int(entry.name))
    return found


def _number(line: str) -> int:
    match = LINE.match(line)
    assert match, f"unexpected log line {line!r}"
    return int(match.group(1))


async def test_log_shows_history_then_follows_and_stops_on_close(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    engine = clean_fleet["h3"].docker
    assert engine is not None
    cid = engine.run_container(container_name("kate-log"), *BUSY_LOGGER)
    wait_for(lambda: "line 3" in engine.cli("logs", cid).stdout, 20, what="4 lines logged")
    async with ssh_runner(clean_fleet, "h3") as runner:
        stream = runner.logs(container_target("h3", engine, cid), lines=1000)
        assert stream is not None
        # Every line printed so far, then lines printed after the stream opened.
        present = len(engine.cli("logs", cid).stdout.splitlines())
        lines = await read_lines(stream, lambda got: _number(got[-1]) >= present + 3)
        numbers = [_number(line) for line in lines]
        assert numbers[0] == 0
        assert numbers == list(range(len(numbers)))
        assert docker_logs_processes(cid), "docker logs runs on the host while followed"
        await stream.aclose()
        wait_for(lambda: not docker_logs_processes(cid), 10, what="docker logs ended on the host")


async def test_log_tail_and_stderr_are_shown(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    engine = clean_fleet["h3"].docker
    assert engine is not None
    tail = engine.run_container(container_name("liam-a"), "sh", "-c", "seq 1 5; sleep 600")
    errors = engine.run_container(container_name("liam-b"), "sh", "-c", "echo e >&2; sleep 600")
    wait_for(lambda: "5" in engine.cli("logs", tail).stdout, 20, what="5 lines logged")
    wait_for(lambda: "e" in engine.cli("logs", errors).stderr, 20, what="stderr logged")
    async with ssh_runner(clean_fleet, "h3") as runner:
        tail_stream = runner.logs(container_target("h3", engine, tail), lines=2)
        error_stream = runner.logs(container_target("h3", engine, errors), lines=2)
        assert tail_stream is not None and error_stream is not None
        tail_lines = await read_lines(tail_stream, lambda got: len(got) == 2)
        error_lines = await read_lines(error_stream, lambda got: len(got) == 1)
        await tail_stream.aclose()
        await error_stream.aclose()
    assert [without_timestamp(line) for line in tail_lines] == ["4", "5"]
    assert [without_timestamp(line) for line in error_lines] == ["e"]


async def test_log_of_a_removed_container_ends_with_dockers_words(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    engine = clean_fleet["h3"].docker
    assert engine is not None
    cid = engine.run_container(container_name("mia-log"))
    target = container_target("h3", engine, cid)
    engine.cli("rm", "--force", cid)
    async with ssh_runner(clean_fleet, "h3") as runner:
        stream = runner.logs(target)
        assert stream is not None
        lines = await read_lines(stream)
        await stream.aclose()
    assert len(lines) == 1
    assert "No such container" in lines[0]


async def test_closing_the_log_of_a_silent_container_ends_docker_logs_on_the_host(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    # Nothing is printed, so only the program's stdin watcher can end `docker logs` there.
    engine = clean_fleet["h2"].docker
    assert engine is not None
    cid = engine.run_container(container_name("nina-quiet"))
    async with ssh_runner(clean_fleet, "h2") as runner:
        stream = runner.logs(container_target("h2", engine, cid))
        assert stream is not None
        reader = asyncio.create_task(read_lines(stream))
        await async_wait_for(lambda: docker_logs_processes(cid), 20, what="docker logs running")
        await stream.aclose()
        assert await asyncio.wait_for(reader, 10) == []
        wait_for(lambda: not docker_logs_processes(cid), 10, what="docker logs ended on the host")
