"""The Linux driver's input thread: keys and a lone Escape arrive, idle it sleeps, exit wakes it."""

from __future__ import annotations

import asyncio
import gc
import os
import pty
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from clustertop.sources.demo.source import DemoSource
from clustertop.ui import driver as driver_module
from clustertop.ui.app import ClusterTopApp
from clustertop.ui.driver import QuietLinuxDriver
from tests.e2e.tmux import TmuxTerminal, tmux_available
from tests.waiting import wait_for


class _Recording(QuietLinuxDriver):
    """The driver with its events kept here instead of posted to an app."""

    def __init__(self, fileno: int) -> None:
        super().__init__(ClusterTopApp(DemoSource(frozen=True)))
        self.fileno = fileno
        self.seen: list[Message] = []

    def process_message(self, message: Message) -> None:
        self.seen.append(message)


async def _recording(fileno: int) -> _Recording:
    return _Recording(fileno)


@pytest.fixture
def tty_driver() -> Iterator[tuple[_Recording, int]]:
    """A driver reading the slave side of a pty (the master is the 'keyboard'), its thread up."""
    master, slave = pty.openpty()
    tty.setraw(slave)  # keys as typed, not lines
    driver = asyncio.run(_recording(slave))  # Textual's Driver notes the running loop
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        yield driver, master
    finally:
        driver.exit_event.set()
        thread.join(10)
        assert not thread.is_alive(), "the exit event wakes the input thread"
        driver._waking.close()
        os.close(master)
        os.close(slave)


def _keys(driver: _Recording) -> list[str]:
    return [m.key for m in list(driver.seen) if isinstance(m, events.Key)]


def test_the_app_runs_on_the_quiet_driver_in_a_terminal() -> None:
    app = ClusterTopApp(DemoSource(frozen=True))
    assert app.driver_class is QuietLinuxDriver
    assert issubclass(QuietLinuxDriver, LinuxDriver)


def test_keys_and_a_lone_escape_arrive_and_an_idle_thread_does_not_loop(
    tty_driver: tuple[_Recording, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    driver, keyboard = tty_driver
    waits: list[float | None] = []
    original = driver_module._timeout

    def counted(parser: Any) -> float | None:
        waits.append(found := original(parser))
        return found

    monkeypatch.setattr(driver_module, "_timeout", counted)
    os.write(keyboard, b"q")
    wait_for(lambda: _keys(driver) == ["q"], 10, what="q read")
    # A lone Escape is only known as such when nothing follows it in time (the parser's delay).
    os.write(keyboard, b"\x1b")
    wait_for(lambda: _keys(driver) == ["q", "escape"], 10, what="escape after its delay")
    assert any(w is not None for w in waits), "the select waited for the Escape's delay"
    loops = len(waits)
    time.sleep(0.5)  # Textual's thread would have looked at the terminal 5 times by now
    assert len(waits) == loops and waits[-1] is None, "idle: one select without a timeout"
    os.write(keyboard, "é".encode())
    wait_for(lambda: _keys(driver)[-1:] == ["é"], 10, what="a UTF-8 key")


@pytest.mark.skipif(not tmux_available(), reason="tmux is not installed")
def test_keys_reach_clustertop_in_a_real_terminal_and_q_quits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTERTOP_", "TMUX"))}
    env |= {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm-256color",
    }
    terminal = TmuxTerminal(env, tmp_path / "terminal-output")
    try:
        terminal.start([sys.executable, "-m", "clustertop", "--demo"])
        terminal.wait_for_text("Hosts", "sorted by")
        terminal.send("?")
        terminal.wait_for_text("Keys: grid")
        terminal.send("Escape")  # a lone Escape: closes the help once the parser's delay ends
        wait_for(lambda: "Keys: grid" not in terminal.screen(), 15, what="the help closed")
        terminal.send("q")
        assert terminal.exit_status(15) == 0, terminal.written()[-2000:]
    finally:
        terminal.kill()


def test_a_terminal_run_freezes_its_start_up_heap_and_widens_the_young_generation() -> None:
    # In a child: the settings are the process's, and a test process runs many apps.
    code = (
        "import gc\n"
        "from clustertop.ui import app\n"
        "before = gc.get_threshold()\n"
        "app._settle_gc()\n"
        "after = gc.get_threshold()\n"
        "assert gc.get_freeze_count() > 1000, gc.get_freeze_count()\n"
        "assert after == (app.GC_GEN0, *before[1:]), (before, after)\n"
        "print('ok')\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.stdout.strip() == "ok", done.stderr


async def test_a_headless_app_leaves_the_collector_as_it_is() -> None:
    before = gc.get_threshold()
    async with ClusterTopApp(DemoSource(frozen=True)).run_test() as pilot:
        await pilot.pause()
        assert not any(t.name == "gc-settle" for t in pilot.app._timers)
    assert gc.get_threshold() == before


def test_a_closed_wake_up_pipe_is_never_written_to() -> None:
    driver = asyncio.run(_recording(0))
    fds = (driver._waking.wake_read, driver._waking.wake_write)
    driver._waking.close()
    reused = os.open(os.devnull, os.O_RDONLY)  # may take a closed pipe end's number
    try:
        driver.exit_event.set()  # after close: must not write into whatever file has the number
        driver._waking.drain()
        assert driver.exit_event.is_set() and driver._waking.wake_write == -1
    finally:
        os.close(reused)
    assert fds[0] >= 0 and fds[1] >= 0
