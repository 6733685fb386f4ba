"""Signals over SSH to real processes of a fleet host: the confirmed process only, or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psutil
import pytest

from clustertop.actions.model import Outcome, Verb
from tests.actions.helpers import (
    is_running,
    process_target,
    ssh_runner,
    start_sleep,
    stop_sleep,
)
from tests.fleet.fleet import Fleet
from tests.waiting import wait_for


@pytest.fixture
def sleeps(fleet: Fleet) -> Iterator[list[int]]:
    """Root `sleep 600`s started on h1 over SSH; killed afterwards if still there."""
    started = [start_sleep(fleet["h1"]) for _ in range(2)]
    try:
        yield started
    finally:
        for pid in started:
            stop_sleep(pid)


async def test_term_and_kill_end_the_confirmed_processes(fleet: Fleet, sleeps: list[int]) -> None:
    term_pid, kill_pid = sleeps
    async with ssh_runner(fleet, "h1") as runner:
        term = await runner.run(Verb.TERM, process_target("h1", term_pid))
        kill = await runner.run(Verb.SIGKILL, process_target("h1", kill_pid))
    assert (term.outcome, term.detail) == (Outcome.DONE, f"SIGTERM sent to PID {term_pid}")
    assert (kill.outcome, kill.detail) == (Outcome.DONE, f"SIGKILL sent to PID {kill_pid}")
    wait_for(lambda: not is_running(term_pid) and not is_running(kill_pid), 10, what="both end")


async def test_pid_with_another_start_time_is_not_signalled(
    fleet: Fleet, sleeps: list[int]
) -> None:
    pid = sleeps[0]
    async with ssh_runner(fleet, "h1") as runner:
        result = await runner.run(Verb.SIGKILL, process_target("h1", pid, start_shift=-3600.0))
        again = await runner.run(Verb.TERM, process_target("h1", pid, start_shift=0.5))
        # One clock tick later is another process: the start is compared exactly, in ticks.
        tick = await runner.run(Verb.TERM, process_target("h1", pid, start_shift=0.01))
    assert result.outcome is Outcome.CHANGED
    assert result.detail.startswith(f"PID {pid} is now a process started at ")
    assert again.outcome is Outcome.CHANGED
    assert tick.outcome is Outcome.CHANGED, tick.detail
    assert is_running(pid)


async def test_process_that_exited_is_gone(fleet: Fleet, sleeps: list[int]) -> None:
    pid = sleeps[0]
    target = process_target("h1", pid)
    stop_sleep(pid)
    wait_for(lambda: not is_running(pid), 10, what="sleep ends")
    async with ssh_runner(fleet, "h1") as runner:
        result = await runner.run(Verb.TERM, target)
    assert result.outcome is Outcome.GONE


async def test_container_process_is_signalled_by_its_host_pid(
    clean_fleet: Fleet, container_name: Callable[[str], str]
) -> None:
    engine = clean_fleet["h2"].docker
    assert engine is not None
    name = container_name("gina-job")
    engine.run_container(name, "sh", "-c", "sleep 600 & wait")
    sh_pid = engine.container_pid(name)
    child = wait_for(lambda: _child_sleep(sh_pid), 10, what="the container's sleep")
    assert child is not None
    async with ssh_runner(clean_fleet, "h2") as runner:
        result = await runner.run(Verb.SIGKILL, process_target("h2", child))
    assert result.outcome is Outcome.DONE, result.detail
    wait_for(lambda: not is_running(child), 10, what="container sleep ends")


def _child_sleep(parent: int) -> int | None:
    return next((c.pid for c in psutil.Process(parent).children() if c.name() == "sleep"), None)
