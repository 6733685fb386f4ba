"""History: one averaged point per bucket, gaps for down hosts, and bounded memory."""

from __future__ import annotations

import dataclasses
import tracemalloc

import pytest

from clustertop.analysis.history import MAX_POINTS, History, Metric
from clustertop.config.settings import Config
from clustertop.model import Cpu, Gpu, HostSnapshot, HostState
from tests.analysis.builders import GIB, T0, gpu, snap

GPU0 = gpu(0).uuid
"""UUID of GPU 0 as the builders make it."""


def reading(
    time: float, cpu: float | None, util: float | None = 50.0, **kwargs: object
) -> HostSnapshot:
    """gpu01 with one GPU at `util` % and 1000 MiB."""
    return snap(time=time, cpu=cpu, gpus=(gpu(0, util, 1000),), **kwargs)  # type: ignore[arg-type]


def test_points_come_oldest_first_one_per_bucket() -> None:
    history = History(window_s=3600)  # 10 s buckets
    for i, cpu in enumerate([10.0, 20.0, 30.0]):
        history.add(reading(T0 + 10 * i, cpu))
    assert history.series("gpu01", Metric.CPU) == [(T0, 10.0), (T0 + 10, 20.0), (T0 + 20, 30.0)]
    assert history.series("gpu01", "memory") == [(T0 + 10 * i, 8 * GIB) for i in range(3)]
    assert history.series("gpu01", Metric.GPU_UTIL, GPU0) == [(T0 + 10 * i, 50.0) for i in range(3)]
    assert history.series("gpu01", Metric.GPU_MEMORY, GPU0)[0] == (T0, 1000 * 1024 * 1024)


def test_readings_in_one_bucket_are_averaged_and_stamped_with_the_newest() -> None:
    history = History(window_s=3600)
    for time, cpu in [(T0, 10.0), (T0 + 2, 20.0), (T0 + 4, 60.0)]:
        history.add(reading(time, cpu))
    assert history.series("gpu01", Metric.CPU) == [(T0 + 4, 30.0)]


def test_unknown_readings_are_none_and_do_not_dilute_the_mean() -> None:
    history = History(window_s=3600)
    history.add(reading(T0, 10.0, util=None))
    history.add(reading(T0 + 2, None, util=40.0))
    history.add(reading(T0 + 10, None, util=None))
    assert history.series("gpu01", Metric.CPU) == [(T0 + 2, 10.0), (T0 + 10, None)]
    assert history.series("gpu01", Metric.GPU_UTIL, GPU0) == [(T0 + 2, 40.0), (T0 + 10, None)]


def test_a_down_host_leaves_a_gap_and_last_is_the_newest_snapshot() -> None:
    history = History(window_s=3600)
    history.add(reading(T0, 10.0))
    down = snap(time=T0 + 10, state=HostState.UNREACHABLE, error="refused")
    history.add(down)
    history.add(reading(T0 + 20, 30.0))
    assert history.series("gpu01", Metric.CPU) == [(T0, 10.0), (T0 + 20, 30.0)]
    history.add(down)
    assert history.last("gpu01") is down
    assert history.last("nowhere") is None


def test_unknown_hosts_gpus_and_metrics() -> None:
    history = History()
    history.add(reading(T0, 10.0))
    assert history.series("nowhere", Metric.CPU) == []
    assert history.series("gpu01", Metric.GPU_UTIL, "GPU-missing") == []
    assert history.series("gpu01", Metric.GPU_UTIL) == []
    with pytest.raises(ValueError):
        history.series("gpu01", "temperature")


def test_gpus_without_uuid_or_any_value_are_skipped() -> None:
    history = History()
    unnamed = gpu(0, None, None, uuid="", error="lost")
    blank = gpu(2, None, None, error="Unknown Error")
    history.add(snap(time=T0, gpus=(unnamed, gpu(1, 5.0, 10), blank)))
    assert history.gpu_uuids("gpu01") == [gpu(1).uuid]


def test_from_config_uses_the_history_window_and_interval() -> None:
    history = History.from_config(Config(history=600.0, interval=5.0))
    assert (history.window_s, history.resolution_s, history.slots) == (600.0, 5.0, 120)


def test_older_readings_are_dropped_but_a_clock_set_back_a_window_starts_afresh() -> None:
    history = History(window_s=3600)
    history.add(reading(T0 + 100, 10.0))
    history.add(reading(T0 + 50, 99.0))  # an older bucket: dropped
    assert history.series("gpu01", Metric.CPU) == [(T0 + 100, 10.0)]
    history.add(reading(T0 - 4000, 20.0))
    assert history.series("gpu01", Metric.CPU) == [(T0 - 4000, 20.0)]


def test_a_coarser_resolution_keeps_fewer_points() -> None:
    history = History(window_s=600, resolution_s=60)
    assert history.slots == 10
    for i in range(100):
        history.add(reading(T0 + 30 * i, float(i)))
    points = history.series("gpu01", Metric.CPU)
    assert len(points) == 10
    assert points[-1] == (T0 + 30 * 99, 98.5)  # bucket of readings 98 and 99
    assert History(window_s=3600, resolution_s=1.0).slots == MAX_POINTS


def test_forget_drops_the_host() -> None:
    history = History()
    history.add(reading(T0, 10.0))
    history.forget("gpu01")
    history.forget("gpu01")
    assert history.hosts() == []
    assert history.series("gpu01", Metric.CPU) == []


def test_three_hours_every_two_seconds_stay_within_the_window() -> None:
    history = History(window_s=3600)
    hosts = [f"node{i:02d}" for i in range(4)]
    for tick in range(3 * 3600 // 2):
        time = T0 + 2 * tick
        # GPU 7 is swapped for a new board every 20 minutes: old boards must age out.
        board = gpu(7, 50.0, 100, uuid=f"GPU-board-{tick // 600}")
        gpus = (*(gpu(i, float(tick % 100), 100) for i in range(7)), board)
        for name in hosts:
            history.add(snap(name, time, gpus=gpus, cpu=float(tick % 100)))
    newest = T0 + 2 * (3 * 3600 // 2 - 1)
    for name in hosts:
        assert len(history.gpu_uuids(name)) <= 7 + 4  # 7 fixed, boards of the last hour
        for uuid in history.gpu_uuids(name):
            for metric in (Metric.GPU_UTIL, Metric.GPU_MEMORY):
                points = history.series(name, metric, uuid)
                assert len(points) <= MAX_POINTS
                assert all(newest - t < 3600 for t, _ in points)
        cpu = history.series(name, Metric.CPU)
        assert len(cpu) == MAX_POINTS
        assert cpu[-1][0] == newest


def _fleet_tick(
    names: list[str], gpu_sets: list[tuple[Gpu, ...]], time: float
) -> list[HostSnapshot]:
    base = snap(time=time)
    return [
        dataclasses.replace(
            base, name=name, gpus=gpu_sets[i % len(gpu_sets)], cpu=Cpu(1.0, 1.0, 0.0)
        )
        for i, name in enumerate(names)
    ]


def test_a_reading_without_a_value_leaves_the_bucket_mean_to_the_readings_with_one() -> None:
    history = History(window_s=3600)
    readings = [(T0, 10.0, None), (T0 + 2, None, 40.0), (T0 + 4, 30.0, 60.0), (T0 + 10, None, None)]
    for time, cpu, util in readings:
        history.add(reading(time, cpu, util))
    assert history.series("gpu01", Metric.CPU) == [(T0 + 4, 20.0), (T0 + 10, None)]
    assert history.series("gpu01", Metric.GPU_UTIL, GPU0) == [(T0 + 4, 50.0), (T0 + 10, None)]
    # A whole window later the same slots hold new buckets: nothing of the old means is left.
    history.add(reading(T0 + 3600, 70.0, None))
    assert history.series("gpu01", Metric.CPU)[-1] == (T0 + 3600, 70.0)
    assert history.series("gpu01", Metric.GPU_UTIL, GPU0)[-1] == (T0 + 3600, None)


def test_memory_for_a_thousand_hosts_is_bounded_and_does_not_grow() -> None:
    names = [f"n{i:04d}" for i in range(1000)]
    gpu_sets = [tuple(gpu(g, float(v), 100 * v) for g in range(8)) for v in range(5)]
    history = History(window_s=3600)
    interval = 600.0  # coarse ticks keep the test fast; memory is preallocated per host anyway
    tracemalloc.start()
    try:
        for tick in range(int(3600 / interval)):
            for snapshot in _fleet_tick(names, gpu_sets, T0 + tick * interval):
                history.add(snapshot)
        after_one_hour = tracemalloc.get_traced_memory()[0]
        for tick in range(int(3600 / interval), int(3 * 3600 / interval)):
            for snapshot in _fleet_tick(names, gpu_sets, T0 + tick * interval):
                history.add(snapshot)
        after_three_hours = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    slots, series = history.slots, 2 + 2 * 8
    # Per host: a float32 time and a bit (does the slot hold a bucket) per slot, each series a
    # float32 per slot (NaN: no mean) plus its object header, and the retained last snapshot.
    bound = slots * 4 + slots // 8 + series * (slots * 4 + 240) + 2048
    per_host = after_three_hours / len(names)
    print(f"history: {per_host:.0f} bytes per host (bound {bound})")
    assert per_host <= bound
    assert after_three_hours <= after_one_hour * 1.01


def test_a_nan_reading_is_no_sample() -> None:
    history = History(window_s=3600)
    for time, cpu in [(T0, float("nan")), (T0 + 2, 10.0), (T0 + 4, float("nan")), (T0 + 12, None)]:
        history.add(reading(time, cpu))
    assert history.series("gpu01", Metric.CPU) == [(T0 + 4, 10.0), (T0 + 12, None)]


def test_buckets_skipped_while_down_stay_gaps_after_the_ring_wraps() -> None:
    history = History(window_s=100, resolution_s=10)  # 10 slots
    for time in range(0, 100, 10):
        history.add(reading(T0 + time, float(time)))
    history.add(reading(T0 + 130, 1.0))  # 100-120 skipped: their slots held 0-20
    points = history.series("gpu01", Metric.CPU)
    assert [t - T0 for t, _ in points] == [40, 50, 60, 70, 80, 90, 130]
    assert points[-1][1] == 1.0
