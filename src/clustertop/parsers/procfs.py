"""Parsers for /proc files: loadavg, meminfo, uptime, stat (CPU deltas) and <pid>/cgroup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from operator import attrgetter

from clustertop.model import Cpu, Memory
from clustertop.model.fast import maker

_KIB = 1024
_CPU_COLUMNS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
_counters = attrgetter(*_CPU_COLUMNS)
_CPU = maker(Cpu)
"""Cpu(...) without one object.__setattr__ per field: one a frame of every host."""
# A Docker container's cgroup path component: /docker/<id>, docker-<id>.scope, or a bare <id>
# (custom --cgroup-parent, kubepods with the cgroupfs driver). Other runtimes' prefixes
# (libpod-, cri-containerd-) are not Docker's and are left alone.
_DOCKER_ID = re.compile(r"(?:^|/)(?:docker[-/])?([0-9a-f]{64})(?:\.scope)?(?=/|$)")


def parse_loadavg(text: str) -> tuple[float, float, float]:
    """'0.21 0.37 0.39 1/719 19737' -> (0.21, 0.37, 0.39); ValueError on anything else."""
    parts = text.split()
    if len(parts) < 3:
        raise ValueError(f"not a /proc/loadavg line: {text[:80]!r}")
    return float(parts[0]), float(parts[1]), float(parts[2])


def parse_uptime(text: str) -> float:
    """Seconds since boot from /proc/uptime ('350735.47 234388.90'); ValueError otherwise."""
    parts = text.split()
    if not parts:
        raise ValueError("empty /proc/uptime")
    return float(parts[0])


def _meminfo_bytes(text: str) -> dict[str, int]:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            continue
        scale = _KIB if len(parts) > 1 and parts[1] == "kB" else 1
        values[key.strip()] = int(parts[0]) * scale
    return values


def parse_meminfo(text: str) -> Memory:
    """Memory from /proc/meminfo, in bytes; used = MemTotal - MemAvailable.

    Kernels before 3.14 have no MemAvailable: it is then estimated as MemFree + Buffers +
    Cached + SReclaimable (what `free` did on those kernels), and `available` holds that
    estimate. Raises ValueError without MemTotal.
    """
    values = _meminfo_bytes(text)
    if "MemTotal" not in values:
        raise ValueError("no MemTotal in /proc/meminfo")
    total = values["MemTotal"]
    available = values.get("MemAvailable")
    if available is None:
        parts = ("MemFree", "Buffers", "Cached", "SReclaimable")
        available = min(total, sum(values.get(part, 0) for part in parts))
    swap_total = values.get("SwapTotal")
    swap_free = values.get("SwapFree")
    swap_used = swap_total - swap_free if swap_total is not None and swap_free is not None else None
    return Memory(
        total=total,
        used=max(total - available, 0),
        available=available,
        swap_total=swap_total,
        swap_used=swap_used,
    )


@dataclass(frozen=True, slots=True)
class CpuSample:
    """Aggregate CPU time counters from one reading of /proc/stat, in jiffies."""

    user: int
    """Time in user mode (guest time included, as the kernel counts it)."""
    nice: int
    """Time in user mode at low priority."""
    system: int
    """Time in kernel mode."""
    idle: int
    """Idle time."""
    iowait: int = 0
    """Idle time with I/O outstanding (may go backwards on some kernels)."""
    irq: int = 0
    """Time servicing hardware interrupts."""
    softirq: int = 0
    """Time servicing softirqs."""
    steal: int = 0
    """Time stolen by the hypervisor."""
    count: int | None = None
    """Number of cpuN lines (logical CPUs); None when only the aggregate line was given."""

    @property
    def total(self) -> int:
        """Sum of all counted states."""
        return sum(int(getattr(self, name)) for name in _CPU_COLUMNS)


def parse_proc_stat(text: str) -> CpuSample:
    """The aggregate 'cpu ' line of /proc/stat (whole file or that line alone)."""
    aggregate: list[int] | None = None
    count = 0
    for line in text.splitlines():
        if line.startswith("cpu "):
            aggregate = [int(value) for value in line.split()[1 : len(_CPU_COLUMNS) + 1]]
        elif re.match(r"cpu\d+\s", line):
            count += 1
    if aggregate is None or len(aggregate) < 4:
        raise ValueError("no aggregate 'cpu' line in /proc/stat")
    columns = dict(zip(_CPU_COLUMNS, aggregate, strict=False))  # older kernels: fewer columns
    return CpuSample(**columns, count=count or None)


def cpu_between(prev: CpuSample, cur: CpuSample) -> Cpu:
    """CPU use between two samples; values are None (never a fake 0) when not measurable.

    Busy excludes idle and iowait; user includes nice; system includes irq and softirq. When
    the total did not advance (same sample, counter reset after reboot) every share is None;
    a single counter that went backwards makes only the shares it feeds None.
    """
    # Every host's every frame: the columns by position, not a dict of names (same integers,
    # so the same shares to the last bit).
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(c) - int(p) for c, p in zip(_counters(cur), _counters(prev), strict=True)
    )
    # A counter that went backwards adds nothing to the interval (clamped), and the shares
    # it feeds are unknown; after a reboot every counter did, so the total is 0.
    total = sum(v for v in (user, nice, system, idle, iowait, irq, softirq, steal) if v > 0)
    if total <= 0:
        return _CPU(None, None, None, None, count=cur.count)
    idle_share = None if idle < 0 else 100.0 * idle / total
    iowait_share = None if iowait < 0 else 100.0 * iowait / total
    busy = None if idle_share is None else max(0.0, 100.0 - idle_share - (iowait_share or 0.0))
    return _CPU(
        percent=busy,
        user_percent=_share(total, user, nice),
        system_percent=_share(total, system, irq, softirq),
        iowait_percent=iowait_share,
        count=cur.count,
    )


def _share(total: int, *deltas: int) -> float | None:
    """The deltas' part of `total` in percent; None when one of them went backwards."""
    if any(d < 0 for d in deltas):
        return None
    return 100.0 * sum(deltas) / total


def container_id_from_cgroup(text: str) -> str | None:
    """The 64-hex Docker container id in /proc/<pid>/cgroup contents; None for a host process.

    Handles cgroup v1 (`4:memory:/docker/<id>`, custom parents, kubepods), v2
    (`0::/system.slice/docker-<id>.scope`) and nested paths (`/docker/<id>/...`: the outer
    container, the one the host's Docker knows).
    """
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        match = _DOCKER_ID.search(path)
        if match:
            return match.group(1)
    return None


ARGS_LIMIT = 4096
"""Most bytes of one process's arguments kept (the remote probe counts bytes, here characters):
a host user can give a process megabytes of argv, and every frame would carry them."""
ARGS_CUT = "…"
"""Ends arguments that were cut at ARGS_LIMIT."""


def cap_args(text: str) -> str:
    """Arguments cut to ARGS_LIMIT, ending in ARGS_CUT when they were longer."""
    if len(text) <= ARGS_LIMIT:
        return text
    return text[: ARGS_LIMIT - len(ARGS_CUT)] + ARGS_CUT
