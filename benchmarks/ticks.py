"""Which tick each host's data answered, the measuring window, and cold start, for any tool."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.runner_common import SweepLog, cpu_self_s, emit, fail, read_hosts, status_kib
from clustertop.sources.ssh.source import raise_open_file_limit


@dataclass(frozen=True)
class Window:
    """How long to measure, after how much warm-up."""

    warmup: int = 2
    """Ticks between cold start and the window."""
    count: int = 10
    """Ticks in the window."""
    min_count: int = 2
    """Fewest ticks in the window, however long they take."""
    max_s: float = 1e9
    """Close the window after this many seconds once min_count ticks are in."""


class TickBook:
    """Tick times and first arrivals per host; emits cold / window_start / window_end events.

    A sweep of tick k ends when every host has sent data after tick k (even if that is after
    tick k+1: such a sweep is late). The window covers ticks [first, end) where `first` is
    `warmup` ticks after cold start. CPU and memory are divided by the frames that actually
    arrived in the window, so a tool that falls behind is not flattered by ticks it skipped.
    """

    def __init__(
        self,
        hosts: list[str],
        window: Window,
        interval: float,
        cpu: Callable[[], float] = cpu_self_s,
    ) -> None:
        self.hosts = hosts
        """Host names a sweep must cover."""
        self.window = window
        """Window settings."""
        self._cpu = cpu
        self.extra: Callable[[], dict[str, Any]] = dict
        """More fields for the window_end event (e.g. a check of the data that arrived)."""
        self.tick_times: list[float] = []
        """Monotonic time of every tick so far."""
        self._arrivals: dict[str, tuple[list[float], list[float]]] = {}
        self.seen: set[str] = set()
        """Hosts that have sent data at least once."""
        self.cold_at: float | None = None
        """When every host had data for the first time."""
        self._first: int | None = None
        self._cpu_start = 0.0
        self.frames = 0
        """Frames (host answers) that arrived inside the window."""
        self.log = SweepLog(len(hosts), interval)
        """Sweeps inside the window."""
        self.finished = False
        """True once the window closed."""

    @property
    def in_window(self) -> bool:
        """True between window start and end."""
        return self._first is not None and len(self.tick_times) > self._first and not self.finished

    def tick(self, now: float | None = None) -> None:
        """A new tick began: open or close the window when it is due."""
        now = time.monotonic() if now is None else now
        self.tick_times.append(now)
        index = len(self.tick_times) - 1
        if self._first is None and self.cold_at is not None:
            self._first = index + self.window.warmup
        if self._first is None or self.finished or index < self._first:
            return
        if index == self._first:
            self._cpu_start = self._cpu()
            emit("window_start", tick=index)
            return
        done = index - self._first
        long_enough = now - self.tick_times[self._first] >= self.window.max_s
        if done >= self.window.count or (done >= self.window.min_count and long_enough):
            self._close(index)

    def _close(self, index: int) -> None:
        assert self._first is not None
        cpu = self._cpu() - self._cpu_start
        for k in range(self._first, index):
            self.log.add(self.tick_times[k], self._arrivals)
        self.finished = True
        emit(
            "window_end",
            tick=index,
            ticks=index - self._first,
            seconds=self.tick_times[index] - self.tick_times[self._first],
            hosts=len(self.hosts),
            frames=self.frames,
            cpu_s=cpu,
            rss_kib=status_kib("VmRSS"),
            hwm_kib=status_kib("VmHWM"),
            **self.log.summary(),
            **self.extra(),
        )

    def arrived(self, host: str, now: float | None = None, sent: float | None = None) -> None:
        """`host`'s data arrived at `now`, asked for at `sent` (default: now); times only grow."""
        now = time.monotonic() if now is None else now
        if self.in_window:
            self.frames += 1
        if self.tick_times:
            sent_list, arrived_list = self._arrivals.setdefault(host, ([], []))
            sent_list.append(now if sent is None else sent)
            arrived_list.append(now)
        if self.cold_at is None:
            self.seen.add(host)
            if len(self.seen) == len(self.hosts):
                self.cold_at = now
                emit("cold", at=now, cpu_s=self._cpu())


def window_args(parser: Any) -> None:
    """Add --warmup-ticks, --ticks, --min-ticks, --max-window-s to an argparse parser."""
    parser.add_argument("--warmup-ticks", type=int, default=2)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--min-ticks", type=int, default=2)
    parser.add_argument("--max-window-s", type=float, default=1e9)


def window_of(args: Any) -> Window:
    """The Window an argparse namespace (with window_args) asks for."""
    return Window(args.warmup_ticks, args.ticks, args.min_ticks, args.max_window_s)


def connected_book(args: Any) -> TickBook:
    """The TickBook for a tool that keeps a connection per host (--hosts-file, window args,
    --interval), after raising the open-file limit for that many connections."""
    hosts = read_hosts(args.hosts_file)
    problem = raise_open_file_limit(len(hosts))
    if problem:
        fail(problem)
    return TickBook(hosts, window_of(args), args.interval)
