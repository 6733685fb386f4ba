"""What every tool runner shares: JSON-line events, own CPU and memory, per-tick sweep records."""

from __future__ import annotations

import bisect
import json
import math
import resource
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
