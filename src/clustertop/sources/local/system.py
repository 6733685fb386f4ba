"""CPU, load, memory, uptime and hostname of the local machine, from psutil."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

from clustertop.model import Cpu, Memory
from clustertop.parsers.procfs import parse_meminfo

MEMINFO = "/proc/meminfo"
"""Where memory is read from on Linux (the same file psutil reads)."""


@dataclass(frozen=True, slots=True)
class SystemReading:
    """The system section of one local snapshot."""

    hostname: str | None
    """The machine's own name (uname -n)."""
    cpu: Cpu | None
    """CPU use since the previous reading; percentages None on the first one."""
    load: tuple[float, float, float] | None
    """1, 5 and 15 minute load averages."""
    memory: Memory | None
    """Memory and swap in bytes."""
    uptime_s: float | None
    """Seconds since boot."""
    error: str | None = None
    """Why part of this section could not be read."""


def busy_split(
    before: dict[str, float], after: dict[str, float]
) -> tuple[float, float, float, float] | None:
    """(busy, user, system, iowait) percentages between two cpu_times() readings."""
    delta = {name: after[name] - before.get(name, 0.0) for name in after}
    # guest time is already counted inside user/nice by the kernel: leave it out of the total.
    total = sum(v for k, v in delta.items() if k not in ("guest", "guest_nice"))
    if total <= 0:
        return None
    idle = delta.get("idle", 0.0)
    iowait = delta.get("iowait", 0.0)
    user = delta.get("user", 0.0) + delta.get("nice", 0.0)
    system = delta.get("system", 0.0) + delta.get("irq", 0.0) + delta.get("softirq", 0.0)

    def share(value: float) -> float:
        return min(100.0, max(0.0, 100.0 * value / total))

    return share(total - idle - iowait), share(user), share(system), share(iowait)


def read_memory() -> Memory:
    """Memory and swap: /proc/meminfo where it exists (MemTotal exactly), else psutil."""
    try:
        with open(MEMINFO, encoding="ascii", errors="replace") as meminfo:
            return parse_meminfo(meminfo.read())
    except (OSError, ValueError):
        pass  # not Linux, or an unreadable /proc: psutil knows the platform's way
    virtual = psutil.virtual_memory()
    swap = psutil.swap_memory()
    return Memory(
        total=virtual.total,
        used=max(0, virtual.total - virtual.available),
        available=virtual.available,
        swap_total=swap.total,
        swap_used=swap.total - swap.free,
    )


class SystemSampler:
    """Keeps the previous CPU times so each reading covers exactly one tick."""

    def __init__(self) -> None:
        self._previous: dict[str, float] | None = None

    def read(self) -> SystemReading:
        """One reading; never raises for an unreadable part (it goes to `error`)."""
        errors: list[str] = []
        cpu = self._read_cpu(errors)
        load: tuple[float, float, float] | None = None
        try:
            load = os.getloadavg()
        except OSError as exc:
            errors.append(f"load: {exc}")
        memory: Memory | None = None
        try:
            memory = read_memory()
        except (OSError, RuntimeError) as exc:
            errors.append(f"memory: {exc}")
        uptime: float | None = None
        try:
            uptime = max(0.0, time.time() - psutil.boot_time())
        except (OSError, RuntimeError) as exc:
            errors.append(f"uptime: {exc}")
        return SystemReading(
            hostname=os.uname().nodename,
            cpu=cpu,
            load=load,
            memory=memory,
            uptime_s=uptime,
            error="; ".join(errors) or None,
        )

    def _read_cpu(self, errors: list[str]) -> Cpu | None:
        # Our own deltas rather than psutil.cpu_percent(interval=None): that one keeps a single
        # process-wide previous sample, which any other caller would silently reset.
        try:
            now: dict[str, float] = psutil.cpu_times()._asdict()
        except (OSError, RuntimeError) as exc:
            errors.append(f"cpu: {exc}")
            return None
        before, self._previous = self._previous, now
        split = busy_split(before, now) if before is not None else None
        count = psutil.cpu_count(logical=True)
        if split is None:
            return Cpu(None, None, None, None, count)
        busy, user, system, iowait = split
        return Cpu(busy, user, system, iowait, count)
