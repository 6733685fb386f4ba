"""Rates from two readings of cumulative counters, safe across wraps, resets and reboots."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    NetCounters,
)
from clustertop.parsers.diskstats import SECTOR

MAX_BYTE_RATE = 1e11
"""Bytes per second above which a delta is a counter that jumped, not traffic (800 Gbit/s: past
any NIC, InfiniBand port or disk a host has today)."""
MAX_OP_RATE = 1e8
"""Operations per second above which an IOPS delta is a jump, not I/O."""
BUSY_SLACK = 1.5
"""A busy-time delta up to this share of the interval is clamped to 100 % (the kernel's and our
clocks differ a little); above it, the counter jumped and no busy % is given."""


@dataclass(frozen=True, slots=True)
class NetSample:
    """One reading of the interfaces: when, on which boot, and their counters."""

    time: float
    """Monotonic seconds of the reading."""
    counters: tuple[NetCounters, ...]
    """Every interface."""
    boot: str = ""
    """Identity of the boot (boot_id or btime): a different one resets every rate."""
    ids: Mapping[str, int] = field(default_factory=dict)
    """Interface name -> ifindex where known: a re-created interface gets a new one."""


@dataclass(frozen=True, slots=True)
class DiskSample:
    """One reading of /proc/diskstats."""

    time: float
    """Monotonic seconds of the reading."""
    counters: tuple[DiskCounters, ...]
    """Every block device with I/O."""
    boot: str = ""
    """Identity of the boot: a different one resets every rate."""


def counter_rate(before: int, after: int, seconds: float, cap: float) -> float | None:
    """(after - before) / seconds, or None where that would lie: no time passed, the counter
    went back (reset, re-created, 32-bit wrap: which one is unknowable) or jumped past `cap`."""
    if seconds <= 0 or after < before:
        return None
    rate = (after - before) / seconds
    return rate if rate <= cap else None


def _comparable(before: NetSample | DiskSample | None, after: NetSample | DiskSample) -> bool:
    return before is not None and before.boot == after.boot and after.time > before.time


def interface_rates(
    before: NetSample | None,
    after: NetSample,
    kinds: Mapping[str, InterfaceKind],
) -> tuple[Interface, ...]:
    """Interfaces of `after` with rates against `before`; kinds by name (physical when absent).

    An interface new in `after`, re-created (another ifindex) or on another boot has no rate.
    """
    old = {c.name: c for c in before.counters} if before and _comparable(before, after) else {}
    seconds = after.time - before.time if before else 0.0
    rows: list[Interface] = []
    for now in after.counters:
        kind = kinds.get(now.name, InterfaceKind.PHYSICAL)
        then = old.get(now.name)
        if then is None or (before and before.ids.get(now.name) != after.ids.get(now.name)):
            rows.append(Interface(now, kind))
            continue
        rx = counter_rate(then.rx_bytes, now.rx_bytes, seconds, MAX_BYTE_RATE)
        tx = counter_rate(then.tx_bytes, now.tx_bytes, seconds, MAX_BYTE_RATE)
        rows.append(Interface(now, kind, rx, tx))
    return tuple(rows)


def busy_percent(before_ms: int, after_ms: int, seconds: float) -> float | None:
    """Share of `seconds` a device had I/O in flight, 0-100, or None for a jumped counter."""
    if seconds <= 0 or after_ms < before_ms:
        return None
    share = (after_ms - before_ms) / (seconds * 1000.0)
    return min(share, 1.0) * 100.0 if share <= BUSY_SLACK else None


def _disk_io(then: DiskCounters, now: DiskCounters, seconds: float) -> DiskIo:
    bytes_read = counter_rate(then.read_sectors, now.read_sectors, seconds, MAX_BYTE_RATE / SECTOR)
    bytes_written = counter_rate(
        then.write_sectors, now.write_sectors, seconds, MAX_BYTE_RATE / SECTOR
    )
    return DiskIo(
        now,
        read_rate=None if bytes_read is None else bytes_read * SECTOR,
        write_rate=None if bytes_written is None else bytes_written * SECTOR,
        read_iops=counter_rate(then.reads, now.reads, seconds, MAX_OP_RATE),
        write_iops=counter_rate(then.writes, now.writes, seconds, MAX_OP_RATE),
        busy_percent=busy_percent(then.busy_ms, now.busy_ms, seconds),
    )


def disk_rates(before: DiskSample | None, after: DiskSample) -> tuple[DiskIo, ...]:
    """Devices of `after` with rates against `before` (none for new devices or another boot)."""
    if before is None or not _comparable(before, after):
        return tuple(DiskIo(now) for now in after.counters)
    old = {c.name: c for c in before.counters}
    seconds = after.time - before.time
    return tuple(
        DiskIo(now) if now.name not in old else _disk_io(old[now.name], now, seconds)
        for now in after.counters
    )
