"""Signalling real local processes through the action programs: identity first, then the signal."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from clustertop.actions.local_runner import LocalActionRunner
from clustertop.actions.model import Outcome, ProcessTarget, Verb
from tests.actions.helpers import is_running, process_target


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize(("verb", "signum"), [(Verb.TERM, signal.SIGTERM), (Verb.SIGKILL, 9)])
async def test_signal_reaches_the_confirmed_process(
    sleeper: subprocess.Popen[bytes], verb: Verb, signum: int
) -> None:
    result = await LocalActionRunner().run(verb, process_target("local", sleeper.pid))
    assert result.outcome is Outcome.DONE, result.detail
    assert sleeper.wait(timeout=10) == -signum


async def test_reused_pid_is_left_alone(sleeper: subprocess.Popen[bytes]) -> None:
    # The user confirmed a process that started 30 s earlier: this PID now belongs to another.
    target = process_target("local", sleeper.pid, start_shift=-30.0)
    result = await LocalActionRunner().run(Verb.SIGKILL, target)
    assert result.outcome is Outcome.CHANGED
    assert "PID reused" in result.detail
    assert is_running(sleeper.pid)


async def test_the_start_time_as_printed_is_the_same_process(
    sleeper: subprocess.Popen[bytes],
) -> None:
    # Start times travel as decimals (the SSH probe rounds them to 0.01 s, one tick): a
    # difference well under half a tick names the same tick, so the same process.
    target = process_target("local", sleeper.pid, start_shift=0.003)
    result = await LocalActionRunner().run(Verb.TERM, target)
    assert result.outcome is Outcome.DONE, result.detail
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


@pytest.mark.parametrize("shift", [0.01, -0.01, 0.04, -0.05])
async def test_a_start_time_one_tick_off_is_another_process(
    sleeper: subprocess.Popen[bytes], shift: float
) -> None:
    # One clock tick (0.01 s) is already another process; 0.04 s used to be tolerated.
    target = process_target("local", sleeper.pid, start_shift=shift)
    result = await LocalActionRunner().run(Verb.SIGKILL, target)
    assert result.outcome is Outcome.CHANGED, result.detail
    assert "PID reused" in result.detail
    assert is_running(sleeper.pid)


async def test_exited_process_is_gone(sleeper: subprocess.Popen[bytes]) -> None:
    target = process_target("local", sleeper.pid)
    sleeper.kill()
    sleeper.wait()
    result = await LocalActionRunner().run(Verb.TERM, target)
    assert (result.outcome, result.detail) == (
        Outcome.GONE,
        f"no process {target.pid} on this host",
    )


async def test_init_is_never_signalled() -> None:
    result = await LocalActionRunner().run(Verb.SIGKILL, ProcessTarget("local", 1, 1e9, None, ""))
    assert result.outcome is Outcome.FAILED
    assert result.detail.startswith("refused: ")
