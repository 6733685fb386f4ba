"""`--once` table: MIG instances under their GPU, a process's GPU:MIG device, missing instances."""

from __future__ import annotations

import dataclasses

from clustertop.cli.once_table import host_details
from clustertop.model import MIB, Gpu, GpuProcess, HostSnapshot, HostState
from clustertop.model.mig import MigInstance, MigRef

NOW = 1_700_000_000.0


def _snap(gpu: Gpu, *procs: GpuProcess) -> HostSnapshot:
    return HostSnapshot(
        "mig01", HostState.UP, NOW, hostname="mig01", gpus=(gpu,), gpu_processes=procs
    )


GPU = Gpu(
    0,
    "GPU-1",
    "NVIDIA H100 80GB HBM3",
    None,
    11125 * MIB,
    81559 * MIB,
    52.0,
    432.0,
    700.0,
    mig_mode="Enabled",
)


def test_instances_and_process_device() -> None:
    gpu = dataclasses.replace(
        GPU,
        mig_instances=(
            MigInstance(0, 2, 0, "3g.40gb", "MIG-a", 11091 * MIB, 40448 * MIB),
            MigInstance(1, 3, 0, "2g.20gb", "MIG-b", 17 * MIB, 20096 * MIB),
        ),
    )
    proc = GpuProcess(21198, 0, "GPU-1", 7484 * MIB, "root", "./gpu_burn", mig=MigRef(2, 0))
    text = host_details(_snap(gpu, proc), NOW)
    lines = text.splitlines()
    assert any(line.startswith("0:0 ") and "└ 3g.40gb GI 2/CI 0 MIG-a" in line for line in lines)
    assert any(line.startswith("0:1 ") and "└ 2g.20gb GI 3/CI 0 MIG-b" in line for line in lines)
    row = next(line for line in lines if line.startswith("21198"))
    assert row.split()[1] == "0:0"


def test_missing_instances_say_why() -> None:
    gpu = dataclasses.replace(GPU, mig_error="MIG devices not readable: Insufficient Permissions")
    text = host_details(_snap(gpu), NOW)
    assert "└ MIG devices not readable: Insufficient Permissions" in text
