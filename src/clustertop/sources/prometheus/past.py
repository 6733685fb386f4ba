"""The charts' past from range queries: CPU, memory and per-GPU readings as snapshots."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from clustertop.model import MIB, Cpu, Gpu, HostSnapshot, HostState, Memory
from clustertop.sources.prometheus.assemble import host_key
from clustertop.sources.prometheus.client import PromClient, PromError, PromSettings, RangeSeries

RANGE_QUERIES = {
    "cpu": "100 * (1 - sum without (cpu, mode) "
    '(irate(node_cpu_seconds_total{mode=~"idle|iowait"}[5m])) '
    "/ sum without (cpu, mode) (irate(node_cpu_seconds_total[5m])))",
    "mem_total": "node_memory_MemTotal_bytes",
    "mem_used": "node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes",
    "gpu_util": "DCGM_FI_DEV_GPU_UTIL",
    "gpu_fb_used": "DCGM_FI_DEV_FB_USED",
}
"""What the history charts show, by name."""
MAX_PAST_HOSTS = 200
"""Beyond this many hosts the past is not fetched: the answers would be too large to wait for
at start (the charts then begin empty, as with SSH)."""


@dataclass
class _Moment:
    cpu: float | None = None
    mem_total: float | None = None
    mem_used: float | None = None
    gpus: dict[tuple[int, str], dict[str, float]] = field(default_factory=dict)


def _file(moments: dict[tuple[str, float], _Moment], name: str, found: list[RangeSeries],
          label: str, wanted: set[str]) -> None:  # fmt: skip
    for labels, points in found:
        host = host_key(labels, label)
        if host not in wanted:
            continue
        for time, value in points:
            moment = moments.setdefault((host, time), _Moment())
            if name.startswith("gpu_"):
                try:
                    key = (int(labels.get("gpu", "")), labels.get("UUID", ""))
                except ValueError:
                    continue
                got = moment.gpus.setdefault(key, {})
                if labels.get("GPU_I_ID") and name in got:
                    # A MIG GPU's memory comes per GPU instance: the GPU's is their sum.
                    got[name] += value
                else:
                    got[name] = value
            else:
                setattr(moment, name, value)


def _snapshot(host: str, time: float, moment: _Moment) -> HostSnapshot:
    memory = None
    if moment.mem_total is not None and moment.mem_used is not None:
        memory = Memory(total=int(moment.mem_total), used=int(moment.mem_used))
    gpus = tuple(
        Gpu(index, uuid, "", got.get("gpu_util"),
            int(got["gpu_fb_used"] * MIB) if "gpu_fb_used" in got else None,
            None, None, None, None)
        for (index, uuid), got in sorted(moment.gpus.items())
    )  # fmt: skip
    cpu = Cpu(moment.cpu, None, None) if moment.cpu is not None else None
    return HostSnapshot(host, HostState.UP, time, cpu=cpu, memory=memory, gpus=gpus)


def past_snapshots(
    answers: Mapping[str, list[RangeSeries]], names: Sequence[str], label: str
) -> list[HostSnapshot]:
    """Snapshots oldest first, one per host and point in time that has any reading."""
    moments: dict[tuple[str, float], _Moment] = {}
    for name, found in answers.items():
        _file(moments, name, found, label, set(names))
    ordered = sorted(moments.items(), key=lambda item: (item[0][1], item[0][0]))
    return [_snapshot(host, time, moment) for (host, time), moment in ordered]


async def _fetch(
    settings: PromSettings, start: float, end: float, step: float
) -> dict[str, list[RangeSeries]]:
    client = PromClient(settings)
    try:
        results = await asyncio.gather(
            *(client.query_range(q, start, end, step) for q in RANGE_QUERIES.values()),
            return_exceptions=True,
        )
    finally:
        await client.aclose()
    return {
        name: result
        for name, result in zip(RANGE_QUERIES, results, strict=True)
        if not isinstance(result, BaseException)
    }


def fetch_past(
    settings: PromSettings, names: Sequence[str], label: str, *, now: float, window_s: float,
    resolution_s: float,
) -> Iterator[HostSnapshot]:  # fmt: skip
    """The past of `names` over `window_s`, one point per `resolution_s` (none for a large fleet
    or when Prometheus fails: the charts then start empty). Runs in its own thread and event
    loop, as it is called before, or outside, the app's loop."""
    if not names or len(names) > MAX_PAST_HOSTS:
        return iter(())
    step = max(resolution_s, 1.0)
    start = now - window_s  # the last point at `now` itself: a young Prometheus has one
    with ThreadPoolExecutor(1) as pool:
        try:
            answers = pool.submit(asyncio.run, _fetch(settings, start, now, step)).result()
        except PromError:
            return iter(())
    return iter(past_snapshots(answers, names, label))
