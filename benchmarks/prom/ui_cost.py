"""The UI's own CPU at N hosts x G GPUs, no Prometheus: a scripted source first leaves every
host connecting (the start-up rows), then sends readings where every host changed (as the
Prometheus source's changing data does). Process CPU, so the source's decoding is not in it.

PYTHONPATH=src:. python -m benchmarks.prom.ui_cost [N] [G] [readings]
Prints JSON: start_cpu_s (app start with N connecting rows, until they are shown),
first_rows_s / first_cpu_s (the first reading: until the first and last hosts' rows hold it,
and the CPU it took), cpu_per_reading_s (each next reading, GC settled as the app does it).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

from tests.ui.helpers import GIB, NOW, ScriptedSource, host

from clustertop.model import Gpu, HostSnapshot, HostState
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.app import _settle_gc

SETTLE_S = 2.5
"""Seconds given to each step (the repaint, the compositor) before its CPU is read."""


def _snap(name: str, gpus: int, rng: random.Random) -> HostSnapshot:
    cards = tuple(
        Gpu(i, f"GPU-{name}-{i}", "NVIDIA A100-SXM4-80GB", float(rng.randint(0, 100)),
            10 * GIB, 80 * GIB, float(rng.randint(30, 80)), 200.0, 400.0)
        for i in range(gpus)
    )  # fmt: skip
    load = (rng.random() * 8, 1.0, 1.0)
    return host(name, cpu=float(rng.randint(0, 100)), gpus=cards, load=load)


async def _measure(hosts: int, gpus: int, readings: int) -> dict[str, Any]:
    rng = random.Random(1)
    names = [f"gpu{i:05d}" for i in range(hosts)]
    source = ScriptedSource([host(name) for name in names])
    source.initial = []  # every host connecting until the first reading
    started = time.process_time()
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW, interval=5.0))
    async with app.run_test(size=(160, 50)):
        rows = app.grid._rows
        while len(rows) < hosts or app.grid.table.row_count < hosts:
            await asyncio.sleep(0.01)
        await asyncio.sleep(SETTLE_S)
        start_cpu = time.process_time() - started

        def shown(name: str) -> bool:
            return rows[name].target.state is not HostState.CONNECTING  # type: ignore[attr-defined]

        first = [_snap(name, gpus, rng) for name in names]
        cpu, wall = time.process_time(), time.monotonic()
        for snap in first:
            source.emit(snap)
        while not (shown(names[0]) and shown(names[-1])):
            await asyncio.sleep(0.005)
        first_rows = time.monotonic() - wall
        await asyncio.sleep(SETTLE_S)
        first_cpu = time.process_time() - cpu
        _settle_gc()  # as the app a user runs does, 5 s after mount
        per_reading = []
        for _ in range(readings):
            snaps = [_snap(name, gpus, rng) for name in names]
            cpu = time.process_time()
            for snap in snaps:
                source.emit(snap)
            await asyncio.sleep(SETTLE_S)
            per_reading.append(round(time.process_time() - cpu, 3))
    return {"hosts": hosts, "gpus": gpus, "start_cpu_s": round(start_cpu, 3),
            "first_rows_s": round(first_rows, 3), "first_cpu_s": round(first_cpu, 3),
            "cpu_per_reading_s": per_reading}  # fmt: skip


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    hosts, gpus, readings = (args + [5000, 8, 4][len(args) :])[:3]
    print(json.dumps(asyncio.run(_measure(hosts, gpus, readings))))
