"""A snapshot's values are worked out once for the 1 h, 24 h and 7 d histories, and every level
records exactly what it recorded when each level read the snapshot itself (main's rule)."""

from __future__ import annotations

import dataclasses
import random

from clustertop.analysis.history import (
    RATE_METRICS,
    History,
    Metric,
    _GpuSeries,
    _HostHistory,
    _Series,
    host_rates,
)
from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import Gpu, HostSnapshot, HostState
from clustertop.model.network import DiskCounters, DiskIo, Interface, InterfaceKind, NetCounters
from tests.analysis.builders import GIB, T0, gpu, snap

HOSTS = ("a", "b", "c")


class ReadsEachTime(History):
    """History as it was before: each level reads the snapshot's values itself."""

    def _record(self, host: _HostHistory, snap: HostSnapshot, slot: int, bucket: int) -> None:
        if snap.cpu is not None and snap.cpu.percent is not None:
            host.cpu.put(slot, snap.cpu.percent)
        if snap.memory is not None:
            host.memory.put(slot, snap.memory.used)
        if snap.interfaces or snap.disk_io:
            for metric, value in host_rates(snap).items():
                if value is not None:
                    if metric not in host.rates:
                        host.rates[metric] = _Series(self.slots)
                    host.rates[metric].put(slot, value)
        for g in snap.gpus:
            if not g.uuid or (g.util_percent is None and g.memory_used is None):
                continue
            series = host.gpus.setdefault(g.uuid, _GpuSeries(self.slots))
            series.last_bucket = bucket
            if g.util_percent is not None:
                series.util.put(slot, g.util_percent)
            if g.memory_used is not None:
                series.memory.put(slot, g.memory_used)


def _maybe(rng: random.Random, value: float) -> float | None:
    return None if rng.random() < 0.15 else value


def _gpus(rng: random.Random, name: str) -> tuple[Gpu, ...]:
    found = []
    for index in range(rng.randint(0, 3)):
        uuid = "" if rng.random() < 0.1 else f"GPU-{name}-{index}"
        util = _maybe(rng, rng.uniform(0, 100))
        mem = None if rng.random() < 0.15 else rng.randint(0, 80_000)
        found.append(gpu(index, util, mem, uuid=uuid))
    return tuple(found)


def _reading(rng: random.Random, name: str, at: float) -> HostSnapshot:
    if rng.random() < 0.08:
        return snap(name, at, state=HostState.TIMEOUT, error="timed out")
    base = snap(name, at, gpus=_gpus(rng, name), cpu=_maybe(rng, rng.uniform(0, 100)))
    base = dataclasses.replace(base, memory=dataclasses.replace(
        base.memory, used=rng.randint(1, 500) * GIB))  # type: ignore[arg-type]  # fmt: skip
    nic = Interface(
        NetCounters("eth0", 0, 0, 0, 0, 0, 0, 0, 0),
        rng.choice([InterfaceKind.PHYSICAL, InterfaceKind.VIRTUAL]),
        _maybe(rng, rng.uniform(0, 1e9)),
        _maybe(rng, rng.uniform(0, 1e9)),
    )
    disk = DiskIo(DiskCounters("sda", 0, 0, 0, 0, 0), _maybe(rng, 1e6), _maybe(rng, 2e6))
    return dataclasses.replace(
        base,
        interfaces=(nic,) if rng.random() < 0.7 else (),
        disk_io=(disk,) if rng.random() < 0.6 else (),
    )


def _series(history: History) -> dict[tuple[str, str, str | None], list[object]]:
    found: dict[tuple[str, str, str | None], list[object]] = {}
    for name in history.hosts():
        for metric in (Metric.CPU, Metric.MEMORY, *RATE_METRICS):
            found[name, str(metric), None] = list(history.series(name, metric))
        for uuid in history.gpu_uuids(name):
            for metric in (Metric.GPU_UTIL, Metric.GPU_MEMORY):
                found[name, str(metric), uuid] = list(history.series(name, metric, uuid))
    return found


def test_every_level_records_what_it_recorded_reading_the_snapshot_itself() -> None:
    rng = random.Random(13)
    analysis = ClusterAnalysis(history=History(3600.0, 10.0))
    levels = [level.history for level in analysis.zoom.levels]
    assert [h.window_s for h in levels] == [3600.0, 86400.0, 7 * 86400.0]
    for level in analysis.zoom.levels:
        level.pending = None  # the past is in: live readings go straight to every level
    before = [ReadsEachTime(h.window_s, h.resolution_s) for h in levels]
    at = T0
    for _ in range(1500):  # 1500 rounds of 3 hosts, 2-40 s apart: buckets fill and wrap
        at += rng.uniform(2.0, 40.0)
        for name in HOSTS:
            reading = _reading(rng, name, at + rng.uniform(0, 1))
            analysis.update(reading)
            for old in before:
                old.add(reading)
    for new, old in zip(levels, before, strict=True):
        assert _series(new) == _series(old)
        assert sum(len(points) for points in _series(new).values()) > 100


def test_a_new_snapshot_is_read_again_though_it_equals_the_last() -> None:
    first = snap("a", T0, cpu=10.0, gpus=(gpu(0, 50.0, 100),))
    history = History(3600.0, 10.0)
    history.add(first)
    history.add(dataclasses.replace(first, time=T0 + 20, cpu=None))  # no CPU this time
    assert [v for _, v in history.series("a", Metric.CPU)] == [10.0, None]
