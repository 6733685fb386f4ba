"""The local source's system section and `--once` behaviour, against this machine's real /proc."""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import time

import psutil
import pytest

from clustertop.model import HostSnapshot, HostState
from clustertop.sources.base import is_settled
from clustertop.sources.local.source import LocalSource
from clustertop.sources.local.system import SystemSampler, busy_split
from tests.waiting import async_wait_for


def _meminfo_total() -> int:
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal in /proc/meminfo")


def test_memory_total_is_meminfo_memtotal_and_used_is_total_minus_available() -> None:
    reading = SystemSampler().read()

    assert reading.memory is not None
    assert reading.memory.total == _meminfo_total()
    assert reading.memory.available is not None
    assert reading.memory.used == reading.memory.total - reading.memory.available
    assert reading.error is None


def test_first_reading_has_no_cpu_use_and_the_second_has_a_split_that_adds_up() -> None:
    sampler = SystemSampler()
    first = sampler.read()
    # Burn a little CPU so the second reading covers at least some ticks.
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        pass
    second = sampler.read()

    assert first.cpu is not None and first.cpu.percent is None
    assert first.cpu.count == psutil.cpu_count()
    cpu = second.cpu
    assert cpu is not None and cpu.percent is not None
    assert cpu.user_percent is not None and cpu.system_percent is not None
    assert 0.0 < cpu.percent <= 100.0
    assert cpu.user_percent + cpu.system_percent <= cpu.percent + 1e-6


def test_system_reading_names_the_host_and_its_load_and_uptime() -> None:
    reading = SystemSampler().read()

    assert reading.hostname == socket.gethostname()
    assert reading.load == pytest.approx(os.getloadavg(), abs=0.5)
    with open("/proc/uptime", encoding="ascii") as uptime:
        assert reading.uptime_s == pytest.approx(float(uptime.read().split()[0]), abs=5.0)


def test_busy_split_counts_iowait_as_idle_and_nice_as_user() -> None:
    before = {"user": 0.0, "nice": 0.0, "system": 0.0, "idle": 0.0, "iowait": 0.0, "irq": 0.0}
    after = {"user": 3.0, "nice": 1.0, "system": 1.0, "idle": 3.0, "iowait": 1.0, "irq": 1.0}

    assert busy_split(before, after) == pytest.approx((60.0, 40.0, 20.0, 10.0))


def test_busy_split_leaves_guest_time_out_of_the_total_and_refuses_no_progress() -> None:
    before = {"user": 0.0, "idle": 0.0, "guest": 0.0}
    after = {"user": 1.0, "idle": 1.0, "guest": 1.0}

    assert busy_split(before, after) == pytest.approx((50.0, 50.0, 0.0, 0.0))
    assert busy_split(after, after) is None


async def test_collect_once_returns_one_settled_snapshot_of_this_machine_quickly() -> None:
    source = LocalSource()
    started = time.monotonic()

    [snap] = await source.collect_once(timeout=10.0)

    assert time.monotonic() - started < 5.0  # about 1 s alone; generous for a shared machine
    assert snap.name == "localhost"
    assert snap.state is HostState.UP
    assert is_settled(snap)
    assert snap.cpu is not None and snap.cpu.percent is not None
    assert snap.memory is not None and snap.memory.total == _meminfo_total()
    assert snap.hostname == socket.gethostname()
    assert snap.processes, "the process list is empty"
    assert all(p.pid > 0 and p.command for p in snap.processes)
    assert any(d.mount == "/" for d in snap.disks)


async def test_a_source_given_a_name_reports_under_that_name() -> None:
    source = LocalSource(interval=0.5, name="workstation")
    assert list(source.host_names) == ["workstation"]

    [snap] = await source.collect_once(timeout=10.0)

    assert snap.name == "workstation"


async def test_run_emits_a_first_snapshot_at_once_then_one_per_interval() -> None:
    source = LocalSource(interval=0.3)
    times: list[float] = []
    collect = source.snapshot

    async def timed() -> HostSnapshot:  # when each reading starts: how long it takes varies
        times.append(time.monotonic())
        return await collect()

    source.snapshot = timed  # type: ignore[method-assign]
    task = asyncio.create_task(source.run(lambda snap: None))
    try:
        await async_wait_for(lambda: len(times) >= 4, timeout=15.0, what="four snapshots")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.aclose()

    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 0.45  # the CPU baseline gap
    assert all(gap >= 0.29 for gap in gaps[1:])
