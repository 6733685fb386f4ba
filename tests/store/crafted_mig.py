"""A crafted history of a host with a MIG GPU, with known instance-hours, via the real writer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from clustertop.model import MIB, ContainerRef, Cpu, Gpu, GpuProcess, HostSnapshot, HostState
from clustertop.model.mig import MigInstance, MigRef
from clustertop.store.writer import Reading, StoreWriter
from tests.store.crafted import STEP, T0

READINGS = 720
"""Two hours of readings, STEP apart."""
END = T0 + 3 * 3600
"""The report span [T0, END) holds all of it."""
MIG_UUIDS = ("MIG-aaaaaaaa-0000-5000-8000-000000000000", "MIG-bbbbbbbb-0000-5000-8000-000000000000")

EXPECTED = {
    # owner: (GPU-hours held, busy, idle, peak GPUs, instance-hours held, busy, idle)
    "carol": (1.0, 1.0, 0.0, 1, 2.0, 0.0, 0.0),
    "dave": (0.0, 0.0, 0.0, 0, 1.0, 0.5, 0.5),
}
"""carol: the whole GPU 1 for 1 h (busy) and the 3g.40gb instance for 2 h (utilisation
unknown, as nvidia-smi gives none: neither busy nor idle); dave: a 1g.10gb instance for 1 h
whose utilisation is known (as NVML with DCGM could give it), busy 30 min, then idle."""


def _instances(k: int) -> tuple[MigInstance, ...]:
    dave_util = 50.0 if k <= 180 else 0.0
    dave_mem = 1000 if k <= 360 else 0
    return (
        MigInstance(0, 1, 0, "3g.40gb", MIG_UUIDS[0], 3000 * MIB, 40192 * MIB),
        MigInstance(
            1, 7, 0, "1g.10gb", MIG_UUIDS[1], dave_mem * MIB, 9856 * MIB, None, None, dave_util
        ),
        MigInstance(2, 8, 0, "1g.10gb", None, 0, 9856 * MIB),  # free all along, UUID unknown
    )


def _proc(pid: int, index: int, owner: str, mem_mib: int, mig: MigRef | None) -> GpuProcess:
    uuid = f"GPU-{index:08d}-0000-0000-0000-000000000000"
    ref = ContainerRef(f"{owner}-job".encode().hex().ljust(64, "0"), f"{owner}-job")
    return GpuProcess(pid, index, uuid, mem_mib * MIB, owner, "python t.py", ref, owner, mig=mig)


def reading(k: int, host: str = "mig01") -> HostSnapshot:
    """The k-th reading (1-based): GPU 0 in MIG mode (no utilisation), GPU 1 whole."""
    procs = [_proc(300, 0, "carol", 3000, MigRef(1, 0, MIG_UUIDS[0]))]
    if k <= 360:
        procs.append(_proc(400, 0, "dave", 1000, MigRef(7, 0)))  # by GI/CI only
        procs.append(_proc(301, 1, "carol", 5000, None))
    gpus = (
        Gpu(0, "GPU-00000000-0000-0000-0000-000000000000", "A100", None, 4000 * MIB,
            81920 * MIB, 40.0, 60.0, 400.0, mig_mode="Enabled", mig_instances=_instances(k)),
        Gpu(1, "GPU-00000001-0000-0000-0000-000000000000", "A100", 80.0,
            (5000 if k <= 360 else 0) * MIB, 81920 * MIB, 40.0, 60.0, 400.0),
    )  # fmt: skip
    return HostSnapshot(
        name=host,
        state=HostState.UP,
        time=T0 + STEP * k,
        cpu=Cpu(10.0, 5.0, 5.0),
        gpus=gpus,
        gpu_processes=tuple(procs),
    )


def readings(first: int = 1, last: int = READINGS) -> Iterator[Reading]:
    """Readings first..last, each standing for STEP seconds."""
    for k in range(first, last + 1):
        yield Reading(reading(k), STEP)


def write_crafted_mig(path: Path, first: int = 1, last: int = READINGS) -> None:
    """Write readings first..last with one writer, one batch per reading."""
    writer = StoreWriter(path)
    try:
        for item in readings(first, last):
            writer.write([item])
    finally:
        writer.close()
