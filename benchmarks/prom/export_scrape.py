"""`clustertop export` of N hosts: wall time and CPU of one scrape (metrics built and encoded).

The snapshots are the demo cluster's 24 hosts repeated under new names up to N, held in memory
as the exporter holds the SSH source's latest readings: this measures the exporter's own cost per
scrape, not SSH. Run: PYTHONPATH=src python -m benchmarks.prom.export_scrape [N]
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import time

from clustertop.analysis.stale import StaleTracker
from clustertop.cli.export import Readings
from clustertop.config.settings import Config
from clustertop.sources.demo.source import DemoSource


class _Fleet(DemoSource):
    def __init__(self, count: int) -> None:
        super().__init__(frozen=True)
        base = self.snapshots()
        self.fleet = [
            dataclasses.replace(base[i % len(base)], name=f"gpu{i:04d}") for i in range(count)
        ]

    @property
    def host_names(self) -> list[str]:
        return [s.name for s in self.fleet]


def measure(count: int, runs: int = 20) -> dict[str, float]:
    """Median and worst wall and CPU seconds of one scrape of `count` hosts."""
    source = _Fleet(count)
    readings = Readings(source, Config(stale_after=0.0))
    readings.stale = StaleTracker(stale_after=0.0)
    for snap in source.fleet:
        readings.sink(snap)
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        size = len(readings.payload())
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    samples = sum(1 for _ in _lines(readings))
    return {
        "hosts": count,
        "scrape_wall_median_s": statistics.median(walls),
        "scrape_wall_max_s": max(walls),
        "scrape_cpu_median_s": statistics.median(cpus),
        "bytes": size,
        "samples": samples,
    }


def _lines(readings: Readings) -> list[str]:
    return [x for x in readings.payload().decode().splitlines() if x and not x.startswith("#")]


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 500), indent=1))
