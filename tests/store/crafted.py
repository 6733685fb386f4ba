"""A crafted history with known GPU-hours, written through the real write path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from clustertop.model import MIB, ContainerRef, Cpu, Gpu, GpuProcess, HostSnapshot, HostState
from clustertop.store.writer import Reading, StoreWriter

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 3600
"""An hour boundary: the crafted history starts here."""
STEP = 10.0
"""Seconds between readings."""
UP_READINGS = 1080
"""Readings while up: 3 hours."""
DOWN_READINGS = 60
"""Then 10 minutes unreachable."""
END = T0 + 4 * 3600
"""The report span [T0, END) holds all of it."""

EXPECTED_OWNERS = {
    # owner: (held, busy, idle GPU-hours, peak GPUs)
    "alice": (2.0, 1.0, 1.0, 1),
    "bob": (0.5, 0.5, 0.0, 1),
}
"""alice holds GPU 0 for 2 h (busy the first), bob GPU 1 for 30 min, busy."""
EXPECTED_UP_H = 3.0
EXPECTED_DOWN_H = 1 / 6
EXPECTED_GPU_UTIL = 20.0
"""GPU 0 at 80% for 1 h of 3, GPU 1 at 80% for 30 min of 3 h: (80*1 + 80*0.5) / 6."""


def _gpu(index: int, util: float, mem_mib: int) -> Gpu:
    uuid = f"GPU-{index:08d}-0000-0000-0000-000000000000"
    return Gpu(index, uuid, "A100", util, mem_mib * MIB, 81920 * MIB, 40.0, 60.0, 400.0)


def _proc(pid: int, index: int, owner: str, mem_mib: int) -> GpuProcess:
    uuid = f"GPU-{index:08d}-0000-0000-0000-000000000000"
    ref = ContainerRef(f"{owner}-job".encode().hex().ljust(64, "0"), f"{owner}-job")
    return GpuProcess(pid, index, uuid, mem_mib * MIB, owner, "python train.py", ref, owner)


def reading(k: int, host: str = "gpu01") -> HostSnapshot:
    """The k-th reading (1-based) of the crafted history."""
    t = T0 + STEP * k
    if k > UP_READINGS:
        return HostSnapshot(name=host, state=HostState.UNREACHABLE, time=t, error="no route")
    alice_util = 80.0 if k <= 360 else 0.0
    bob_util = 80.0 if k <= 180 else 0.0
    procs = []
    if k <= 720:
        procs.append(_proc(100, 0, "alice", 1000))
    if k <= 180:
        procs.append(_proc(200, 1, "bob", 2000))
    return HostSnapshot(
        name=host,
        state=HostState.UP,
        time=t,
        cpu=Cpu(50.0, 40.0, 10.0),
        gpus=(_gpu(0, alice_util, 1000 if k <= 720 else 0), _gpu(1, bob_util, 2000)),
        gpu_processes=tuple(procs),
    )


def readings(first: int = 1, last: int = UP_READINGS + DOWN_READINGS) -> Iterator[Reading]:
    """Readings first..last, each standing for STEP seconds."""
    for k in range(first, last + 1):
        yield Reading(reading(k), STEP, _stale(k))


STALE_SINCE = T0 + 3610.0
"""alice's container idles from reading 361 on, stale (30 min) from reading 541 to 720."""
STALE_LAST = T0 + 7200.0
"""Its last stale reading."""


def _stale(k: int) -> tuple[tuple[str, str, float], ...]:
    if 541 <= k <= 720:
        return ((b"alice-job".hex().ljust(64, "0"), "alice-job", STALE_SINCE),)
    return ()


def write_crafted(path: Path, first: int = 1, last: int = UP_READINGS + DOWN_READINGS) -> None:
    """Write readings first..last with one writer, one batch per reading (as ticks come)."""
    writer = StoreWriter(path)
    try:
        for item in readings(first, last):
            writer.write([item])
    finally:
        writer.close()
