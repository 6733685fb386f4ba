"""The Prometheus source at scale: N hosts x G GPUs backfilled into a real Prometheus (promtool),
then the first full reading (every host's snapshot, as the grid needs) timed, with client CPU.

Run as root with Debian's prometheus: PYTHONPATH=src python -m benchmarks.prom.source_scale [N] [G]
The backfill holds a few points 15 s apart ending now (enough for irate and the instant
queries' 5-minute lookback); each host has node_exporter's CPU (4 CPUs x 4 modes), load, memory
and one filesystem, and dcgm-exporter's 7 fields per GPU with its real label set.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.prom.servers import PROMTOOL, Prometheus

from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource

POINTS = 3
STEP_S = 15
_GPU_FIELDS = {
    "DCGM_FI_DEV_GPU_UTIL": 37,
    "DCGM_FI_DEV_FB_USED": 40000,
    "DCGM_FI_DEV_FB_FREE": 41000,
    "DCGM_FI_DEV_GPU_TEMP": 61,
    "DCGM_FI_DEV_POWER_USAGE": 250.5,
    "DCGM_FI_DEV_MEM_COPY_UTIL": 12,
    "DCGM_FI_DEV_XID_ERRORS": 0,
}


def _series(hosts: int, gpus: int) -> Iterator[tuple[str, str, list[float]]]:
    """(metric, labels, values per point) grouped by metric, as OpenMetrics wants."""
    names = [f"gpu{i:05d}" for i in range(hosts)]
    for name in names:
        yield "up", f'job="node",instance="{name}:9100"', [1] * POINTS
    for metric, value in (
        ("node_load1", 1.5), ("node_load5", 1.2), ("node_load15", 1.0),
        ("node_memory_MemTotal_bytes", 5.4e11), ("node_memory_MemAvailable_bytes", 4.1e11),
        ("node_memory_SwapTotal_bytes", 0), ("node_memory_SwapFree_bytes", 0),
        ("node_boot_time_seconds", 1.7e9),
    ):  # fmt: skip
        for name in names:
            yield metric, f'job="node",instance="{name}:9100"', [value] * POINTS
    for name in names:
        for cpu in range(4):
            for mode, rate in (("idle", 0.6), ("user", 0.3), ("system", 0.08), ("iowait", 0.02)):
                labels = f'cpu="{cpu}",job="node",instance="{name}:9100",mode="{mode}"'
                yield (
                    "node_cpu_seconds_total",
                    labels,
                    [1e6 + rate * STEP_S * p for p in range(POINTS)],
                )
    for metric, value in (
        ("node_filesystem_size_bytes", 1e12), ("node_filesystem_avail_bytes", 4e11),
        ("node_filesystem_free_bytes", 4.5e11), ("node_filesystem_files", 6e7),
        ("node_filesystem_files_free", 5e7),
    ):  # fmt: skip
        for name in names:
            labels = (
                f'device="/dev/nvme0n1p2",fstype="ext4",job="node",instance="{name}:9100",'
                'mountpoint="/"'
            )
            yield metric, labels, [value] * POINTS
    for metric, value in _GPU_FIELDS.items():
        for name in names:
            for gpu in range(gpus):
                labels = (
                    f'gpu="{gpu}",UUID="GPU-{abs(hash((name, gpu))):032x}",device="nvidia{gpu}",'
                    f'modelName="NVIDIA H100 80GB HBM3",Hostname="{name}",'
                    f'DCGM_FI_DRIVER_VERSION="550.54.15",job="dcgm",instance="{name}:9400"'
                )
                yield metric, labels, [value] * POINTS


def write_openmetrics(path: Path, hosts: int, gpus: int, end: float) -> int:
    """The backfill file; the number of samples written."""
    times = [end - STEP_S * (POINTS - 1 - p) for p in range(POINTS)]
    count = 0
    with path.open("w") as out:
        for metric, labels, values in _series(hosts, gpus):
            for at, value in zip(times, values, strict=True):
                out.write(f"{metric}{{{labels}}} {value} {at:.3f}\n")
            count += POINTS
        out.write("# EOF\n")
    return count


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _read_twice(source: PrometheusSource) -> dict[str, float]:
    wall, cpu = time.perf_counter(), _cpu_s()
    snaps = await source.read()
    first = {"first_grid_s": time.perf_counter() - wall, "first_grid_cpu_s": _cpu_s() - cpu}
    wall, cpu = time.perf_counter(), _cpu_s()
    again = await source.read()
    await source.aclose()
    up = sum(s.is_up for s in again)
    gpus = sum(len(s.gpus) for s in snaps)
    return {**first, "next_read_s": time.perf_counter() - wall, "next_read_cpu_s": _cpu_s() - cpu,
            "hosts_up": up, "gpus": gpus}  # fmt: skip


def backfill(root: Path, hosts: int, gpus: int, end: float) -> tuple[int, float]:
    """The fleet's points ending at `end` in Prometheus's data folder `root/data` (promtool);
    the number of samples and the seconds writing them took (the rest is promtool's)."""
    started = time.perf_counter()
    samples = write_openmetrics(root / "data.om", hosts, gpus, end)
    written = time.perf_counter() - started
    (root / "data").mkdir(exist_ok=True)
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(root / "data.om"),
         str(root / "data")],
        check=True,
    )  # fmt: skip
    (root / "data.om").unlink()
    return samples, written


def main(hosts: int, gpus: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ctpromscale-") as name:
        root = Path(name)
        started = time.perf_counter()
        samples, written = backfill(root, hosts, gpus, time.time() - 5)
        backfilled = time.perf_counter() - started - written
        prometheus = Prometheus(root, [])
        try:
            prometheus.start()
            source = PrometheusSource(
                PromSettings(prometheus.url, timeout=60.0),
                [f"gpu{i:05d}" for i in range(hosts)],
                interval=15.0,
                host_label="instance",
            )
            result = asyncio.run(_read_twice(source))
        finally:
            prometheus.stop()
    return {"hosts": hosts, "gpus_per_host": gpus, "samples": samples, "write_s": written,
            "backfill_s": backfilled, **result}  # fmt: skip


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*(args + [5000, 8][len(args) :])), indent=1))
