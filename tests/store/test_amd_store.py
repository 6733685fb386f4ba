"""The store on a host with NVIDIA and AMD GPUs: both GPUs 0 are kept apart (by UUID)."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from clustertop.model import MIB, ContainerRef, Cpu, Gpu, GpuProcess, HostSnapshot, HostState
from clustertop.store.report import build_report
from clustertop.store.rows import FLAG_BUSY, FLAG_NONE, Thresholds, gpu_rows
from clustertop.store.writer import Reading, StoreWriter

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 3600
NVIDIA_UUID = "GPU-00000000-0000-0000-0000-000000000000"
AMD_BUS = "0000:83:00.0"


def _gpus(amd_util: float) -> tuple[Gpu, ...]:
    nvidia = Gpu(0, NVIDIA_UUID, "NVIDIA L40S", 0.0, 0, 46068 * MIB, 30.0, 40.0, 350.0)
    amd = Gpu(
        0, AMD_BUS, "AMD Instinct MI210", amd_util, 8000 * MIB, 65520 * MIB, 50.0, 200.0, 300.0
    )
    return nvidia, dataclasses.replace(amd, bus_id=AMD_BUS, vendor="amd")


def _snap(t: float) -> HostSnapshot:
    ref = ContainerRef("ab" * 32, "carol-job")
    # The AMD process's index is 0, as the NVIDIA GPU's: its UUID (the bus ID) places it.
    proc = GpuProcess(7, 0, AMD_BUS, 8000 * MIB, "carol", "python train.py", ref, "carol")
    return HostSnapshot(
        name="mixed",
        state=HostState.UP,
        time=t,
        cpu=Cpu(10.0, 5.0, 5.0),
        gpus=_gpus(90.0),
        gpu_processes=(proc,),
    )


def test_a_process_holds_only_the_gpu_its_uuid_names() -> None:
    rows = list(gpu_rows(_snap(T0), Thresholds()))
    assert [(r.index, r.uuid, r.owner, r.mem, r.flag) for r in rows] == [
        (0, NVIDIA_UUID, "", 0, FLAG_NONE),
        (0, AMD_BUS, "carol", 8000, FLAG_BUSY),
    ]


def test_the_report_counts_the_amd_gpu_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    writer = StoreWriter(path)
    try:
        for k in range(1, 361):  # one hour of readings every 10 s
            writer.write([Reading(_snap(T0 + 10.0 * k), 10.0)])
    finally:
        writer.close()
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute("SELECT idx, uuid FROM gpus ORDER BY uuid").fetchall()
    finally:
        conn.close()
    assert stored == [(0, AMD_BUS), (0, NVIDIA_UUID)]
    report = build_report(path, T0, T0 + 2 * 3600)
    (carol,) = report.owners
    assert (carol.owner, carol.peak_gpus) == ("carol", 1)
    assert carol.held_h == pytest.approx(1.0, abs=1e-6)
    assert carol.busy_h == pytest.approx(1.0, abs=1e-6)
    (host,) = report.hosts
    assert host.gpu_util == pytest.approx(45.0)  # (0 + 90) / 2 GPUs
