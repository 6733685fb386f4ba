"""What the user sees when a host refuses: its own words, and nothing changed on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import asyncssh
import pytest

from clustertop.actions.model import ContainerTarget, Notice, Outcome, ProcessTarget, Verb
from clustertop.actions.ssh_runner import SshActionRunner
from tests.actions.helpers import (
    container_state,
    container_target,
    is_running,
    process_target,
    read_lines,
    ssh_runner,
    start_sleep,
    stop_sleep,
)
from tests.fleet.fleet import Fleet
from tests.ssh.helpers import LiveFleet
from tests.waiting import async_wait_for

Names = Callable[[str], str]
CTUSER = "h1-ctuser"
"""h1 logged into as the non-root ctuser: no docker socket, no rights over root's processes."""


@pytest.fixture
def root_sleep(fleet: Fleet) -> Iterator[int]:
    pid = start_sleep(fleet["h1"])
    try:
        yield pid
    finally:
        stop_sleep(pid)


async def test_non_root_user_gets_the_hosts_refusals(
    clean_fleet: Fleet, container_name: Names, root_sleep: int
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    cid = engine.run_container(container_name("hank-job"))
    async with ssh_runner(clean_fleet, CTUSER) as runner:
        stop = await runner.run(Verb.STOP, container_target(CTUSER, engine, cid))
        term = await runner.run(Verb.TERM, process_target(CTUSER, root_sleep))
    assert stop.outcome is Outcome.FAILED
    assert "permission denied" in stop.detail
    assert "docker" in stop.detail.lower()
    assert container_state(engine, cid) == "running"
    assert (term.outcome, term.detail) == (
        Outcome.FAILED,
        f"kill {root_sleep}: Operation not permitted",
    )
    assert is_running(root_sleep)


async def test_sudo_without_rights_fails_with_sudos_words(
    clean_fleet: Fleet, container_name: Names, root_sleep: int
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    cid = engine.run_container(container_name("ivy-job"))
    async with ssh_runner(clean_fleet, CTUSER, sudo=True) as runner:
        results = [
            await runner.run(Verb.KILL, container_target(CTUSER, engine, cid)),
            await runner.run(Verb.SIGKILL, process_target(CTUSER, root_sleep)),
        ]
    for result in results:
        assert result.outcome is Outcome.FAILED
        # sudo missing: "sudo: command not found..."; no rights: "sudo: a password is required".
        assert result.detail.startswith("sudo"), result.detail
    assert container_state(engine, cid) == "running"
    assert is_running(root_sleep)


CID = "ab" * 32
TARGET = ContainerTarget("h1", CID, "jack-job", "ctbox:latest", "running", "jack")


async def test_host_without_connection_fails_without_raising() -> None:
    runner = SshActionRunner(lambda host: None)
    result = await runner.run(Verb.STOP, TARGET)
    assert (result.outcome, result.detail) == (Outcome.FAILED, "host not connected")
    stream = runner.logs(TARGET)
    assert stream is not None
    assert await read_lines(stream) == [Notice("host not connected")]


async def test_connection_that_died_fails_without_raising(clean_fleet: Fleet) -> None:
    async with LiveFleet(clean_fleet, ["h2"], interval=5.0) as live:

        def connection() -> asyncssh.SSHClientConnection | None:
            session = live.source.sessions.get("h2")
            return session.connection if session is not None else None

        conn = await async_wait_for(connection, 20, what="h2 up")
        assert conn is not None
        conn.close()
        await conn.wait_closed()
        result = await SshActionRunner(lambda host: conn).run(Verb.STOP, TARGET)
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("SSH: ")


@pytest.mark.parametrize(
    "target",
    [
        ContainerTarget("h1", CID[:63] + ";", "jack-job", "i", "running", None),
        ContainerTarget("h1", CID[:12], "jack-job", "i", "running", None),
        ContainerTarget("h1", CID, "jack; reboot", "i", "running", None),
        ProcessTarget("h1", 1, 1e9, None, "init"),
        ProcessTarget("h1", 4242, float("nan"), None, "x"),
    ],
)
async def test_hostile_values_never_reach_a_host(target: ContainerTarget | ProcessTarget) -> None:
    asked: list[str] = []

    def sessions(host: str) -> None:
        asked.append(host)

    verb = Verb.STOP if isinstance(target, ContainerTarget) else Verb.TERM
    result = await SshActionRunner(sessions).run(verb, target)
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("refused: ")
    assert asked == [], "no connection was even looked up"
