"""Local MIG through NVML's MIG calls, on a fake pynvml module (no GPU here): data and guards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from clustertop.model.mig import MigRef
from clustertop.sources.local import gpu as local_gpu
from clustertop.sources.local.gpu import GpuReader
from tests.test_local_gpu import GPU_IS_LOST, FakeNvml, FakeNvmlError

NOT_FOUND, NO_PERMISSION = 6, 4
INVALID = 0xFFFFFFFF
# Slot -> (GI, CI, name, used MiB, total MiB, MIG UUID); slot 1 is empty (NOT_FOUND), as on a
# GPU split into fewer instances than it could hold. GI/profile as on the real H100 capture.
SLOTS = {
    0: (2, 0, "NVIDIA H100 80GB HBM3 MIG 3g.40gb", 11091, 40448, "MIG-aaaa"),
    2: (9, 0, "NVIDIA H100 80GB HBM3 MIG 1g.10gb", 9, 9984, "MIG-bbbb"),
}


class MigNvml(FakeNvml):
    """GPU 1 in MIG mode with two instances; a process of this test in GI 2 / CI 0."""

    def __init__(self) -> None:
        super().__init__()
        self.mig_error: int | None = None

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: int) -> int:
        if self.mig_error is not None:
            raise FakeNvmlError(self.mig_error)
        return 7

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: int, index: int) -> Any:
        if index not in SLOTS:
            raise FakeNvmlError(NOT_FOUND)
        return ("mig", index)

    def nvmlDeviceGetGpuInstanceId(self, mig: Any) -> int:
        return SLOTS[mig[1]][0]

    def nvmlDeviceGetComputeInstanceId(self, mig: Any) -> int:
        return SLOTS[mig[1]][1]

    def nvmlDeviceGetName(self, handle: Any) -> bytes:
        if isinstance(handle, tuple):
            return SLOTS[handle[1]][2].encode()
        return super().nvmlDeviceGetName(handle)

    def nvmlDeviceGetUUID(self, handle: Any) -> str:
        return (
            SLOTS[handle[1]][5] if isinstance(handle, tuple) else super().nvmlDeviceGetUUID(handle)
        )

    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> Any:
        if isinstance(handle, tuple):
            used, total = SLOTS[handle[1]][3:5]
            return SimpleNamespace(used=used * 2**20, total=total * 2**20, free=0)
        return super().nvmlDeviceGetMemoryInfo(handle)

    def nvmlDeviceGetAttributes(self, mig: Any) -> Any:
        return SimpleNamespace(multiprocessorCount=60 if mig[1] == 0 else 16)

    def nvmlDeviceGetGpuInstanceById(self, handle: int, gi: int) -> Any:
        if gi == 9:
            raise FakeNvmlError(NO_PERMISSION)  # placement needs rights: left unknown
        return ("gi", gi)

    def nvmlGpuInstanceGetInfo(self, gi: Any) -> Any:
        return SimpleNamespace(placement=SimpleNamespace(start=0, size=4))

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle: int) -> list[Any]:
        if handle == 0:
            return [
                SimpleNamespace(
                    pid=os.getpid(),
                    usedGpuMemory=1,
                    gpuInstanceId=INVALID,
                    computeInstanceId=INVALID,
                )
            ]
        return [
            SimpleNamespace(
                pid=os.getpid(), usedGpuMemory=7484 * 2**20, gpuInstanceId=2, computeInstanceId=0
            )
        ]


@pytest.fixture
def mig(monkeypatch: pytest.MonkeyPatch) -> Iterator[MigNvml]:
    nvml = MigNvml()
    monkeypatch.setattr(local_gpu, "nvml_module", lambda: nvml)
    yield nvml


def test_instances_come_from_the_mig_calls(mig: MigNvml) -> None:
    reading = GpuReader().read()
    whole, split = reading.gpus
    assert whole.mig_instances == () and whole.mig_error is None
    assert split.mig_error is None
    first, second = split.mig_instances
    assert (first.device_index, first.gpu_instance_id, first.compute_instance_id) == (0, 2, 0)
    assert (first.profile, first.uuid, first.multiprocessor_count) == ("3g.40gb", "MIG-aaaa", 60)
    assert (first.memory_used, first.memory_total) == (11091 * 2**20, 40448 * 2**20)
    assert first.placement == (0, 4)
    assert (second.device_index, second.profile, second.placement) == (2, "1g.10gb", None)


def test_processes_carry_their_instance(mig: MigNvml) -> None:
    on_whole, on_mig = GpuReader().read().processes
    assert on_whole.mig is None  # 0xFFFFFFFF: not in MIG
    assert on_mig.mig == MigRef(2, 0, "MIG-aaaa")
    assert on_mig.gpu_index == 1 and on_mig.memory_used == 7484 * 2**20


def test_no_permission_is_a_per_gpu_mig_error(mig: MigNvml) -> None:
    mig.mig_error = NO_PERMISSION
    reading = GpuReader().read()
    split = reading.gpus[1]
    assert (
        split.mig_instances == ()
        and split.mig_error == f"MIG devices not readable: error {NO_PERMISSION}"
    )
    assert split.error is None and split.memory_total == 80 * 2**30  # the GPU still reads
    assert reading.processes[1].mig == MigRef(2, 0)  # the IDs, without a UUID to match


def test_a_gpu_lost_during_the_mig_read_is_reported_on_its_row(mig: MigNvml) -> None:
    mig.mig_error = GPU_IS_LOST
    reading = GpuReader().read()
    assert reading.gpus[1].error == "GPU 1: GPU is lost"
    assert reading.gpus[0].error is None


def test_an_nvml_without_mig_calls_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    nvml = FakeNvml()  # GPU 1 reports MIG mode on, but this pynvml has no MIG calls
    monkeypatch.setattr(local_gpu, "nvml_module", lambda: nvml)
    split = GpuReader().read().gpus[1]
    assert split.mig_instances == ()
    assert (
        split.mig_error
        == "MIG: this nvidia-ml-py has no nvmlDeviceGetMaxMigDeviceCount (too old for MIG)"
    )
