"""Each query of a large fleet's first reading asked alone, one after another, on a freshly
started Prometheus: its CPU (from /proc), the client's (decoding) and the series it answered.

Run as root with Debian's prometheus, on a backfill that read_ab made (changing data):
PYTHONPATH=src:. python -m benchmarks.prom.query_cost DIR [NAME ...]
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import time
from pathlib import Path

from tests.prom.servers import Prometheus

from benchmarks.prom.source_scale import pin_queries, reading_time
from clustertop.sources.prometheus.client import PromClient, PromSettings
from clustertop.sources.prometheus.fleet import fleet_queries
from clustertop.sources.prometheus.labelled import sweep_queries

_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _ask(url: str, pid: int, end: float, names: list[str]) -> None:
    pin_queries(lambda: reading_time(end, 0))
    client = PromClient(PromSettings(url, timeout=60.0))
    first = sweep_queries("instance")  # what a first reading (a sweep) asks
    wanted = {**fleet_queries("instance"), **first}  # and, by name, what others ask
    totals = [0.0, 0.0]
    try:
        for name in names or list(first):
            prom, own, wall = process_cpu(pid), own_cpu(), time.monotonic()
            got = await client.query(wanted[name])
            prom, own = process_cpu(pid) - prom, own_cpu() - own
            totals[0] += prom
            totals[1] += own
            print(
                f"{name:16s} series {len(got):6d}  Prometheus {prom:5.2f} s  client {own:5.2f} s"
                f"  wall {time.monotonic() - wall:5.2f} s",
                flush=True,
            )
    finally:
        await client.aclose()
    print(f"in all: Prometheus {totals[0]:.2f} s, client {totals[1]:.2f} s")


def main() -> None:
    root = Path(sys.argv[1])
    end = float((root / "end").read_text())
    prometheus = Prometheus(root, [])
    try:
        prometheus.start()
        process = prometheus.daemon.process
        assert process is not None
        asyncio.run(_ask(prometheus.url, process.pid, end, sys.argv[2:]))
    finally:
        prometheus.stop()


if __name__ == "__main__":
    main()
