"""Runs clustertop's SshSource in its own process for a number of ticks, reporting JSON events."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path
from typing import Any

from benchmarks.ticks import TickBook, connected_book, emit, fail, status_kib, window_args
from clustertop.analysis.history import History
from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostSnapshot, HostState
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import HostSession
from clustertop.sources.ssh.source import SshSource


class Recorder:
    """The source's sink: history (as the UI keeps it), arrivals, a check of what arrived."""

    def __init__(self, book: TickBook) -> None:
        self.book = book
        """Tick bookkeeping."""
        self.history = History()
        """What the UI would keep: an hour of per-host history."""
        self.latest: dict[str, HostSnapshot] = {}
        """Newest snapshot per host."""
        self.snapshots = 0
        """Snapshots received."""

    def sink(self, snap: HostSnapshot) -> None:
        """Every snapshot: keep it, and count an UP one as that host's data for this tick."""
        self.snapshots += 1
        self.latest[snap.name] = snap
        self.history.add(snap)
        if snap.state is HostState.UP:
            now = time.monotonic()
            # The frame's round trip says when it was asked for (it may predate this tick).
            sent = now - (snap.latency_ms or 0.0) / 1000.0
            self.book.arrived(snap.name, now, sent)

    def summary(self) -> str:
        """How far it got, in words."""
        check = self.check()
        states = ", ".join(f"{n} {state}" for state, n in sorted(check["states"].items()))
        return f"{check['hosts_with_data']} of {len(self.book.hosts)} hosts had data; now {states}"

    def check(self) -> dict[str, Any]:
        """How many hosts showed complete data (8 GPUs and their processes, containers, disks,
        processes)."""
        complete = sum(
            1
            for s in self.latest.values()
            if s.is_up
            and len(s.gpus) == 8
            and s.gpu_processes
            and s.containers
            and s.disks
            and s.processes
        )
        seen = sum(1 for h in self.book.hosts if h in self.book.seen)
        states: dict[str, int] = {}
        for snap in self.latest.values():
            states[snap.state.value] = states.get(snap.state.value, 0) + 1
        return {
            "hosts_with_data": seen,
            "complete_hosts": complete,
            "states": states,
            "snapshots": self.snapshots,
        }


def hook_ticks(book: TickBook, interval: float) -> None:
    """Note SshSource's tick moments: it calls request_tick on every session at each tick."""
    original = HostSession.request_tick
    last = [-1e9]

    def request_tick(self: HostSession) -> None:
        now = asyncio.get_running_loop().time()
        if now - last[0] > interval / 2:  # the first session of this tick's burst
            last[0] = now
            book.tick()
        original(self)

    HostSession.request_tick = request_tick  # type: ignore[method-assign]


async def run(args: argparse.Namespace) -> None:
    book = connected_book(args)
    hosts = book.hosts
    recorder = Recorder(book)
    book.extra = recorder.check
    hook_ticks(book, args.interval)
    # clustertop's own defaults (connect timeout, 16 concurrent handshakes), as a user runs it.
    settings = SshSettings(config_paths=(Path(args.ssh_config),))
    source = SshSource([parse_host_spec(h) for h in hosts], settings, interval=args.interval)
    task = asyncio.create_task(source.run(recorder.sink))
    try:
        await watch(args, book, recorder, task)
    finally:
        rounds = await cancel_hard(task)
        await source.aclose()
        emit("stopped", cancel_rounds=rounds)


async def watch(
    args: argparse.Namespace, book: TickBook, recorder: Recorder, task: asyncio.Task[None]
) -> None:
    """Until the window closes: progress every 5 s; fail on a stalled cold start or timeout."""
    started = time.monotonic()
    next_progress = started
    while not book.finished:
        now = time.monotonic()
        if task.done():
            fail(f"source stopped: {task.exception()!r}")
        if now >= next_progress:
            next_progress = now + 5.0
            emit("progress", elapsed=now - started, rss_kib=status_kib("VmRSS"), **recorder.check())
        if book.cold_at is None and now - started > args.cold_timeout:
            fail(f"cold start not complete after {args.cold_timeout:g} s ({recorder.summary()})")
        if now - started > args.timeout:
            fail(f"window not finished within {args.timeout:g} s ({recorder.summary()})")
        await asyncio.sleep(0.05)


async def cancel_hard(task: asyncio.Task[None], rounds: int = 10) -> int:
    """Cancel the source; cancel every other task again while it hangs. Rounds needed.

    On Python < 3.12 `asyncio.wait_for` can swallow a cancellation that races a completed read
    (gh-86296), leaving a host session waiting for a tick forever; more than one round needed
    means that happened (a finding for SshSource, not something the benchmark hides).
    """
    task.cancel()
    for attempt in range(1, rounds + 1):
        done, _ = await asyncio.wait([task], timeout=5.0)
        if done:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
            return attempt
        for other in asyncio.all_tasks():
            if other is not asyncio.current_task():
                other.cancel()
    return rounds + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts-file", required=True)
    parser.add_argument("--ssh-config", required=True)
    parser.add_argument("--interval", type=float, default=2.0)
    window_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cold-timeout", type=float, default=120.0)
    args = parser.parse_args()
    emit("start")
    asyncio.run(run(args))
    emit("exit")


if __name__ == "__main__":
    main()
