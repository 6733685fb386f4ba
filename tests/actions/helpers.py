"""Real targets for the action tests: containers and processes on the fleet, and an SSH runner."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncssh
import psutil

from clustertop.actions.model import ContainerTarget, LogItem, LogStream, ProcessTarget
from clustertop.actions.ssh_runner import SshActionRunner
from tests.fleet.dockerd import DockerEngine
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import SimHost
from tests.ssh.helpers import LiveFleet
from tests.waiting import async_wait_for

BUSY_LOGGER = ("sh", "-c", "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.2; done")
"""A container command that prints `line N` five times a second."""


def container_target(host: str, engine: DockerEngine, cid: str) -> ContainerTarget:
    """The container as a user would capture it: full id, name, image, state."""
    fmt = "{{.Name}} {{.Config.Image}} {{.State.Status}}"
    name, image, state = engine.cli("inspect", "--format", fmt, cid).stdout.split()
    return ContainerTarget(host, cid, name.removeprefix("/"), image, state, owner=None)


def container_state(engine: DockerEngine, cid: str) -> str | None:
    """The engine's own word on the container (running, exited...), None when it is gone."""
    found = engine.cli("inspect", "--format", "{{.State.Status}}", cid, check=False)
    return found.stdout.strip() if found.returncode == 0 else None


def started_at(engine: DockerEngine, cid: str) -> str:
    """When the container's current run started, as the engine reports it."""
    return engine.cli("inspect", "--format", "{{.State.StartedAt}}", cid).stdout.strip()


def process_target(host: str, pid: int, start_shift: float = 0.0) -> ProcessTarget:
    """The process as a user would capture it (start time as the local source computes it)."""
    proc = psutil.Process(pid)
    return ProcessTarget(
        host, pid, proc.create_time() + start_shift, proc.username(), " ".join(proc.cmdline())
    )


def is_running(pid: int) -> bool:
    """True while the process exists and has not exited (a zombie has)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_sleep(host: SimHost) -> int:
    """A `sleep 600` started on the host as root, outliving the SSH session; its PID."""
    done = host.ssh("nohup sleep 600 >/dev/null 2>&1 & echo $!")
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def stop_sleep(pid: int) -> None:
    """Kill a sleep this test started (if it is still the one running)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        proc = psutil.Process(pid)
        if proc.name() == "sleep":
            proc.kill()


@contextlib.asynccontextmanager
async def ssh_runner(
    fleet: Fleet, *hosts: str, sudo: bool = False, timeout: float = 30.0
) -> AsyncIterator[SshActionRunner]:
    """An SshActionRunner on the live connections of an SshSource watching `hosts`."""
    async with LiveFleet(fleet, list(hosts), interval=5.0) as live:

        def connection(host: str) -> asyncssh.SSHClientConnection | None:
            session = live.source.sessions.get(host)
            return session.connection if session is not None else None

        await async_wait_for(
            lambda: all(connection(h) is not None for h in hosts), 20, what=f"{hosts} connected"
        )
        yield SshActionRunner(connection, sudo_for=lambda _: sudo, timeout=timeout)


async def read_lines(
    stream: LogStream,
    until: Callable[[list[LogItem]], bool] = lambda _: False,
    timeout: float = 20,
) -> list[LogItem]:
    """Lines (and notices) of `stream` until `until(lines)` or its end; fails after `timeout` s."""

    async def collect() -> list[LogItem]:
        lines: list[LogItem] = []
        async for line in stream.lines():
            lines.append(line)
            if until(lines):
                break
        return lines

    try:
        return await asyncio.wait_for(collect(), timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"log stream: no wanted lines within {timeout} s") from None


def without_timestamp(line: LogItem) -> str:
    """A `docker logs --timestamps` line without its timestamp."""
    assert isinstance(line, str), f"a log line, not {line!r}"
    return line.split(" ", 1)[1]
