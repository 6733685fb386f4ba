"""Keypress-to-repaint of the TUI alone at N hosts x G GPUs: snapshots joined by the Prometheus
source's own assemble() from answers shaped like benchmarks/prom/source_scale.py's backfill, sent
every interval unchanged but for their times (as the source sends a steady fleet), no Prometheus.

PYTHONPATH=src:. python -m benchmarks.prom.ui_keys [N] [G] [presses]
Times each press as tui_keys.py does; compare with tui_keys.py, which adds the real reading.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from benchmarks.prom.tui_keys import INTERVAL_S, _measure
from clustertop.model import HostSnapshot
from clustertop.sources.base import Source
from clustertop.sources.prometheus.assemble import assemble
from clustertop.sources.prometheus.client import Series

_NODE = {"load1": 1.5, "load5": 1.2, "load15": 1.0, "mem_total": 5.4e11,
         "mem_available": 4.1e11, "swap_total": 0.0, "swap_free": 0.0, "boot": 1.7e9,
         "cpu_count": 4.0, "fs_size": 1e12, "fs_avail": 4e11, "fs_free": 4.5e11,
         "fs_files": 6e7, "fs_files_free": 5e7}  # fmt: skip
_GPU = {"gpu_util": 37.0, "gpu_fb_used": 40000.0, "gpu_temp": 61.0, "gpu_fb_total": 81000.0}


def _answers(hosts: int, gpus: int) -> dict[str, list[Series]]:
    names = [f"gpu{i:05d}" for i in range(hosts)]
    disk = {"device": "/dev/nvme0n1p2", "fstype": "ext4", "mountpoint": "/"}
    found: dict[str, list[Series]] = {
        name: [({"instance": f"{n}:9100", **disk}, value) for n in names]
        for name, value in _NODE.items()
    }
    found["cpu_modes"] = [
        ({"instance": f"{n}:9100", "mode": mode}, rate)
        for n in names
        for mode, rate in (("idle", 2.4), ("user", 1.2), ("system", 0.32), ("iowait", 0.08))
    ]
    for name, value in _GPU.items():
        found[name] = [({"gpu": str(g), "Hostname": n}, value) for n in names for g in range(gpus)]
    found["gpu_labels"] = [
        ({"gpu": str(g), "Hostname": n, "UUID": f"GPU-{n}-{g}", "modelName": "NVIDIA H100"}, 1.0)
        for n in names
        for g in range(gpus)
    ]
    return found


class _Steady(Source):
    """The same readings every interval, their times moving on."""

    def __init__(self, snaps: list[HostSnapshot]) -> None:
        self.snaps = snaps
        self.readings = 0

    @property
    def host_names(self) -> list[str]:
        return [s.name for s in self.snaps]

    async def run(self, sink: Callable[[HostSnapshot], None]) -> None:
        while True:
            now = time.time()
            for snap in self.snaps:
                sink(replace(snap, time=now, data_time=now))
            self.readings += 1
            await asyncio.sleep(INTERVAL_S)

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        return list(self.snaps)


def main(hosts: int, gpus: int, presses: int = 30) -> dict[str, Any]:
    names = [f"gpu{i:05d}" for i in range(hosts)]
    snaps = assemble(_answers(hosts, gpus), None, now=time.time(), names=names)
    return asyncio.run(_measure(_Steady(snaps), hosts, presses))  # type: ignore[arg-type]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(main(*(args + [5000, 8, 30][len(args) :])), indent=1))
