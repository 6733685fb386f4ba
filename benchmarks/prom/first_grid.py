"""The first full grid alone, as benchmarks.prom.tui_keys measures it (a fresh backfill of N
hosts x G GPUs into a freshly started Prometheus, the app launched on it, the seconds from launch
to the first displayed update that shows every host's row read), with the CPU that Prometheus
and the client spent in that time. A run takes about 40 s (tui_keys: 4-5 minutes), so trees
can be compared over many runs, alternating.

Run as root with Debian's prometheus:
PYTHONPATH=<tree>/src:. python -m benchmarks.prom.first_grid [N] [G]
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.prom.servers import Prometheus

from benchmarks.prom import tui_keys
from benchmarks.prom.query_cost import own_cpu, process_cpu
from benchmarks.prom.source_scale import backfill, pin_queries
from benchmarks.tui_driver import DisplayProbe
from clustertop.sources.prometheus.client import PromSettings


async def _measure(source: Any, hosts: int, pid: int) -> dict[str, Any]:
    from clustertop.ui import AppOptions, ClusterTopApp

    app = ClusterTopApp(source, options=AppOptions(interval=tui_keys.INTERVAL_S))
    prom, own = process_cpu(pid), own_cpu()
    launched = time.monotonic()
    async with app.run_test(size=(160, 50)):
        screen, full = await tui_keys._first_grids(app, DisplayProbe(app), hosts, launched)
        prom, own = process_cpu(pid) - prom, own_cpu() - own
    read = source.first_read_at
    return {
        "hosts": hosts, "first_screen_s": screen, "first_full_grid_s": full,
        "first_read_s": read and read - launched,
        "prometheus_cpu_s": round(prom, 2), "client_cpu_s": round(own, 2),
    }  # fmt: skip


def main(hosts: int = 5000, gpus: int = 8) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ctpromfirst-") as name:
        root = Path(name)
        end = time.time() - 5
        backfill(root, hosts, gpus, end, changing=True)
        prometheus = Prometheus(root, [])
        try:
            prometheus.start()
            process = prometheus.daemon.process
            assert process is not None
            tui_keys._Counted.sweeps = []
            source = tui_keys._Counted(
                PromSettings(prometheus.url, timeout=60.0),
                [f"gpu{i:05d}" for i in range(hosts)],
                interval=tui_keys.INTERVAL_S,
                host_label="instance",
            )
            source.end = end
            pin_queries(lambda: tui_keys._AT[0])
            return asyncio.run(_measure(source, hosts, process.pid))
        finally:
            prometheus.stop()


if __name__ == "__main__":
    print(json.dumps(main(*(int(a) for a in sys.argv[1:3]))))
