"""The Prometheus source at scale: N hosts x G GPUs backfilled into a real Prometheus (promtool),
then the first full reading (every host's snapshot, as the grid needs) timed, with client CPU.

Run as root with Debian's prometheus:
PYTHONPATH=src python -m benchmarks.prom.source_scale [N] [G] [changing|steady]
Each host has node_exporter's CPU (4 CPUs x 4 modes), load, memory and one filesystem, and
dcgm-exporter's 7 fields per GPU with its real label set. `changing` (the default): 12 points
5 s apart whose GPU utilisation, power, temperature, copy utilisation, CPU rates, load and
available memory and disk are new at every point (GPU memory in use every 4th), read at two
successive points, as a live fleet is. `steady` (the figure of sessions 3-4): 3 points 15 s
apart ending now, every value the same, so a second reading's answers equal the first's.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.prom.servers import PROMTOOL, Prometheus

from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource

POINTS = 3
STEP_S = 15
CHANGING_POINTS = 12
"""Points of a changing backfill: readings at up to 11 successive times, each with new values."""
CHANGING_STEP_S = 5.0
"""A changing backfill's scrape interval: the TUI's interval in these benchmarks, so that each
reading finds every changing series with a new value (the worst case for the client)."""
_GPU_FIELDS = {
    "DCGM_FI_DEV_GPU_UTIL": 37,
    "DCGM_FI_DEV_FB_USED": 40000,
    "DCGM_FI_DEV_FB_FREE": 41000,
    "DCGM_FI_DEV_GPU_TEMP": 61,
    "DCGM_FI_DEV_POWER_USAGE": 250.5,
    "DCGM_FI_DEV_MEM_COPY_UTIL": 12,
    "DCGM_FI_DEV_XID_ERRORS": 0,
}


def _wobble(*keys: int) -> float:
    """A fixed pseudo-random number in [0, 1) for (host, GPU, point...): values that change
    between points as a real fleet's do, the same in every run."""
    mixed = 0
    for key in keys:
        mixed = (mixed * 1_000_003 + key + 1) * 2_654_435_761 % 2**32
    return mixed / 2**32


def _steady(_host: int, _gpu: int, _point: int, value: float) -> float:
    return value


def _changing(host: int, gpu: int, point: int, value: float) -> float:
    """A field around its steady value, new at every point (as utilisation, power, temperature
    and memory in use are at every scrape)."""
    return round(value * (0.5 + _wobble(host, gpu, point)), 1)


_CHANGING_NODE = frozenset(
    ("node_load1", "node_load5", "node_load15", "node_memory_MemAvailable_bytes",
     "node_filesystem_avail_bytes", "node_filesystem_free_bytes")
)  # fmt: skip
_CHANGING_GPU = frozenset(
    ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE",
     "DCGM_FI_DEV_MEM_COPY_UTIL")
)  # fmt: skip
_FB_TOTAL = 81000


def _cpu_counters(host: int, cpu: int, points: int, changing: bool) -> Iterator[list[float]]:
    """node_cpu_seconds_total of idle, user, system, iowait: steady rates 0.6/0.3/0.08/0.02,
    or an idle share new at every point (the rest split 80/15/5)."""
    step = CHANGING_STEP_S if changing else STEP_S
    totals = [1e6] * 4
    rows: list[list[float]] = [[], [], [], []]
    for point in range(points):
        idle = 0.2 + 0.6 * _wobble(host, cpu, point, 7) if changing else 0.6
        rates = (idle, 0.8 * (1 - idle), 0.15 * (1 - idle), 0.05 * (1 - idle))
        for mode, rate in enumerate(rates if changing else (0.6, 0.3, 0.08, 0.02)):
            rows[mode].append(round(totals[mode], 3))
            totals[mode] += rate * step
    yield from rows


def _series(
    hosts: int, gpus: int, points: int = POINTS, changing: bool = False
) -> Iterator[tuple[str, str, list[float]]]:
    """(metric, labels, values per point) grouped by metric, as OpenMetrics wants."""
    names = [f"gpu{i:05d}" for i in range(hosts)]
    vary = _changing if changing else _steady
    for name in names:
        yield "up", f'job="node",instance="{name}:9100"', [1] * points
    for metric, value in (
        ("node_load1", 1.5), ("node_load5", 1.2), ("node_load15", 1.0),
        # Available at most 1.5 x 3.4e11 (changing data): below the total, as on a real host.
        ("node_memory_MemTotal_bytes", 5.4e11), ("node_memory_MemAvailable_bytes", 3.4e11),
        ("node_memory_SwapTotal_bytes", 0), ("node_memory_SwapFree_bytes", 0),
        ("node_boot_time_seconds", 1.7e9),
    ):  # fmt: skip
        how = vary if metric in _CHANGING_NODE else _steady
        for h, name in enumerate(names):
            values = [how(h, -1, p, value) for p in range(points)]
            yield metric, f'job="node",instance="{name}:9100"', values
    for h, name in enumerate(names):
        for cpu in range(4):
            counters = _cpu_counters(h, cpu, points, changing)
            for mode, values in zip(("idle", "user", "system", "iowait"), counters, strict=True):
                labels = f'cpu="{cpu}",job="node",instance="{name}:9100",mode="{mode}"'
                yield "node_cpu_seconds_total", labels, values
    for metric, value in (
        ("node_filesystem_size_bytes", 1e12), ("node_filesystem_avail_bytes", 4e11),
        ("node_filesystem_free_bytes", 4.5e11), ("node_filesystem_files", 6e7),
        ("node_filesystem_files_free", 5e7),
    ):  # fmt: skip
        how = vary if metric in _CHANGING_NODE else _steady
        for h, name in enumerate(names):
            labels = (
                f'device="/dev/nvme0n1p2",fstype="ext4",job="node",instance="{name}:9100",'
                'mountpoint="/"'
            )
            # Both avail and free move with the same wobble (free stays above avail).
            yield metric, labels, [how(h, -2, p, value) for p in range(points)]
    for metric, value in _GPU_FIELDS.items():
        for h, name in enumerate(names):
            for gpu in range(gpus):
                labels = (
                    f'gpu="{gpu}",UUID="GPU-{abs(hash((name, gpu))):032x}",device="nvidia{gpu}",'
                    f'modelName="NVIDIA H100 80GB HBM3",Hostname="{name}",'
                    f'DCGM_FI_DRIVER_VERSION="550.54.15",job="dcgm",instance="{name}:9400"'
                )
                yield metric, labels, _gpu_values(metric, value, h, gpu, points, changing=changing)


def _gpu_values(
    metric: str, value: float, host: int, gpu: int, points: int, *, changing: bool
) -> list[float]:
    if not changing:
        return [value] * points
    if metric in _CHANGING_GPU:
        return [_changing(host, gpu, p, value) for p in range(points)]
    if metric in ("DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE"):
        # Memory in use moves now and then (every 4th point), the size (used + free) never.
        used = [float(int(40000 * (0.5 + _wobble(host, gpu, p // 4, 3)))) for p in range(points)]
        return used if metric.endswith("USED") else [_FB_TOTAL - u for u in used]
    return [value] * points


def write_openmetrics(path: Path, hosts: int, gpus: int, end: float, changing: bool = False) -> int:
    """The backfill file; the number of samples written."""
    points, step = (CHANGING_POINTS, CHANGING_STEP_S) if changing else (POINTS, STEP_S)
    times = [end - step * (points - 1 - p) for p in range(points)]
    count = 0
    with path.open("w") as out:
        for metric, labels, values in _series(hosts, gpus, points, changing):
            out.writelines(
                f"{metric}{{{labels}}} {value} {at:.3f}\n"
                for at, value in zip(times, values, strict=True)
            )
            count += points
        out.write("# EOF\n")
    return count


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _read_twice(source: PrometheusSource, step: Callable[[], None]) -> dict[str, float]:
    wall, cpu = time.perf_counter(), _cpu_s()
    snaps = await source.read()
    first = {"first_grid_s": time.perf_counter() - wall, "first_grid_cpu_s": _cpu_s() - cpu}
    step()
    wall, cpu = time.perf_counter(), _cpu_s()
    again = await source.read()
    await source.aclose()
    up = sum(s.is_up for s in again)
    gpus = sum(len(s.gpus) for s in snaps)
    return {**first, "next_read_s": time.perf_counter() - wall, "next_read_cpu_s": _cpu_s() - cpu,
            "hosts_up": up, "gpus": gpus}  # fmt: skip


def reading_time(end: float, reading: int) -> float:
    """When a changing backfill (ending at `end`) is read the `reading`-th time (from 0): one
    scrape after the other, from the second point (irate needs two) round to the first again."""
    start = end - CHANGING_STEP_S * (CHANGING_POINTS - 1)
    return start + CHANGING_STEP_S * (1 + reading % (CHANGING_POINTS - 1))


def pin_queries(at: Callable[[], float]) -> None:
    """Every instant query of this process asked at the time `at()` gives (not now)."""
    from clustertop.sources.prometheus import client

    get = client.PromClient.get

    async def pinned(self: Any, path: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if path == "/api/v1/query":
            params = {**(params or {}), "time": f"{at():.3f}"}
        return await get(self, path, params, *args, **kwargs)

    client.PromClient.get = pinned  # type: ignore[method-assign]


def backfill(
    root: Path, hosts: int, gpus: int, end: float, changing: bool = False
) -> tuple[int, float]:
    """The fleet's points ending at `end` in Prometheus's data folder `root/data` (promtool);
    the number of samples and the seconds writing them took (the rest is promtool's)."""
    started = time.perf_counter()
    samples = write_openmetrics(root / "data.om", hosts, gpus, end, changing)
    written = time.perf_counter() - started
    (root / "data").mkdir(exist_ok=True)
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(root / "data.om"),
         str(root / "data")],
        check=True,
    )  # fmt: skip
    (root / "data.om").unlink()
    return samples, written


def main(hosts: int, gpus: int, data: str = "changing") -> dict[str, object]:
    changing = data == "changing"
    with tempfile.TemporaryDirectory(prefix="ctpromscale-") as name:
        root = Path(name)
        started = time.perf_counter()
        end = time.time() - 5
        samples, written = backfill(root, hosts, gpus, end, changing)
        backfilled = time.perf_counter() - started - written
        clock = [reading_time(end, 0)]
        if changing:  # the second reading one interval after the first, with new values
            pin_queries(lambda: clock[0])
        prometheus = Prometheus(root, [])
        try:
            prometheus.start()
            source = PrometheusSource(
                PromSettings(prometheus.url, timeout=60.0),
                [f"gpu{i:05d}" for i in range(hosts)],
                interval=15.0,
                host_label="instance",
            )
            result = asyncio.run(_read_twice(source, lambda: clock.append(clock.pop() + 5)))
        finally:
            prometheus.stop()
    return {"hosts": hosts, "gpus_per_host": gpus, "data": data, "samples": samples,
            "write_s": written,
            "backfill_s": backfilled, **result}  # fmt: skip


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:3]]
    data = sys.argv[3] if len(sys.argv) > 3 else "changing"
    if data not in ("changing", "steady"):
        raise SystemExit("data: changing (values new at each scrape) or steady (the same)")
    print(json.dumps(main(*(sizes + [5000, 8][len(sizes) :]), data), indent=1))
