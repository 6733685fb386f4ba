"""What every tool runner shares: events, own CPU and memory, ticks, sweeps, window, cold start."""

from __future__ import annotations

import bisect
import json
import math
import resource
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clustertop.sources.ssh.source import raise_open_file_limit


def emit(event: str, **fields: Any) -> None:
    """One event line on stdout for the harness (monotonic time `t` added)."""
    print(json.dumps({"ev": event, "t": time.monotonic(), **fields}), flush=True)


def cpu_self_s() -> float:
    """CPU seconds (user + system) of this process so far, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_children_s() -> float:
    """CPU seconds of every waited-for child process (and their waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def status_kib(field_name: str, pid: int | str = "self") -> int:
    """A `kB` field of /proc/PID/status (VmRSS, VmHWM), 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def read_hosts(path: str) -> list[str]:
    """Host names, one a line."""
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class SweepLog:
    """Sweep latencies: per tick, from the tick to the moment the last host's data arrived."""

    hosts: int
    """How many hosts a sweep must cover."""
    interval: float
    """Seconds between ticks (a sweep longer than this is late)."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from tick to the last host's first data after it, per complete sweep."""
    incomplete: int = 0
    """Sweeps where some host sent nothing after the tick before the window closed."""

    def add(self, started: float, arrivals: dict[str, tuple[list[float], list[float]]]) -> None:
        """Record the sweep of a tick at `started` from every host's (sent, arrived) times.

        A host's answer to the tick is its first frame *requested* at or after the tick, so a
        frame still in flight from an earlier tick does not count.
        """
        firsts = []
        for sent, arrived in arrivals.values():
            at = bisect.bisect_left(sent, started - 0.001)
            if at < len(arrived):
                firsts.append(arrived[at])
        if len(firsts) < self.hosts:
            self.incomplete += 1
            return
        self.latencies.append(max(firsts) - started)

    def summary(self) -> dict[str, Any]:
        """p50 / p95 / max in milliseconds, counts (late: longer than the interval)."""
        ms = [1000.0 * x for x in self.latencies]
        return {
            "sweeps": len(ms),
            "incomplete": self.incomplete,
            "late": sum(1 for x in self.latencies if x > self.interval),
            "p50_ms": percentile(ms, 50),
            "p95_ms": percentile(ms, 95),
            "max_ms": max(ms) if ms else None,
        }


def fail(message: str) -> None:
    """Report a runner failure to the harness and exit non-zero."""
    emit("error", message=message)
    sys.exit(1)


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
