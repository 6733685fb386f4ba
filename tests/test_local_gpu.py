"""The local GPU section: the real no-driver path here, the data path through a fake nvml module."""

from __future__ import annotations

import ctypes.util
import os
import sys
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from clustertop.model import Section
from clustertop.sources.local import gpu as local_gpu
from clustertop.sources.local.gpu import GpuReader
from clustertop.sources.local.source import SECTION_WAIT_S, LocalSource

NOT_SUPPORTED, DRIVER_NOT_LOADED, FUNCTION_NOT_FOUND, GPU_IS_LOST, MISMATCH = 3, 9, 13, 15, 18
UUID0 = "GPU-11111111-2222-3333-4444-555555555555"
UUID1 = "GPU-66666666-7777-8888-9999-000000000000"


class FakeNvmlError(Exception):
    """Shaped like pynvml.NVMLError: the NVML return code in `value`."""

    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {GPU_IS_LOST: "GPU is lost", NOT_SUPPORTED: "Not Supported"}.get(
            self.value, f"error {self.value}"
        )


class FakeNvml:
    """The subset of the pynvml module the reader calls, with two GPUs (one passively cooled)."""

    NVMLError = FakeNvmlError

    def __init__(self, processes: list[tuple[int, int | None]] | None = None) -> None:
        self.init_error: int | None = None
        self.init_calls = 0
        self.lost: set[int] = set()
        self.has_v3 = False
        self.processes: list[tuple[int, int | None]] = (
            processes if processes is not None else [(os.getpid(), 512 * 2**20)]
        )
        self.gate: threading.Event | None = None
        self.count_error: Exception | None = None

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.init_error is not None:
            raise FakeNvmlError(self.init_error)

    def nvmlShutdown(self) -> None:
        pass

    def nvmlErrorString(self, code: int) -> bytes:
        return b"Driver/library version mismatch" if code == MISMATCH else b"Unknown Error"

    def nvmlDeviceGetCount(self) -> int:
        if self.gate is not None:
            self.gate.wait(30)
        if self.count_error is not None:
            raise self.count_error
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if index in self.lost:
            raise FakeNvmlError(GPU_IS_LOST)
        return index

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return (UUID0, UUID1)[handle]

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"NVIDIA A100-SXM4-80GB"

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return SimpleNamespace(gpu=87, memory=41)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return SimpleNamespace(used=3 * 2**30, total=80 * 2**30, free=77 * 2**30)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        assert sensor == 0
        return 64

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return 251_500

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return 400_000

    def nvmlDeviceGetFanSpeed(self, handle: int) -> int:
        raise FakeNvmlError(NOT_SUPPORTED)  # SXM boards have no fan

    def nvmlDeviceGetPciInfo(self, handle: int) -> Any:
        return SimpleNamespace(busId=f"00000000:0{handle + 7}:00.0")

    def nvmlDeviceGetTotalEccErrors(self, handle: int, error_type: int, counter: int) -> int:
        assert (error_type, counter) == (1, 0)  # uncorrected, volatile
        return 2 if handle == 1 else 0

    def nvmlDeviceGetMigMode(self, handle: int) -> list[int]:
        return [1, 1] if handle == 1 else [0, 0]

    def nvmlDeviceGetComputeRunningProcesses_v3(self, handle: int) -> list[Any]:
        if not self.has_v3:
            raise FakeNvmlError(FUNCTION_NOT_FOUND)  # an older driver
        return self.nvmlDeviceGetComputeRunningProcesses_v2(handle)

    def nvmlDeviceGetComputeRunningProcesses_v2(self, handle: int) -> list[Any]:
        if handle != 0:
            return []
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in self.processes]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNvml]:
    nvml = FakeNvml()
    monkeypatch.setattr(local_gpu, "nvml_module", lambda: nvml)
    yield nvml
    if nvml.gate is not None:
        nvml.gate.set()


@pytest.mark.skipif(
    ctypes.util.find_library("nvidia-ml") is not None, reason="this machine has an NVIDIA driver"
)
async def test_without_an_nvidia_driver_the_snapshot_says_so_and_the_rest_works() -> None:
    [snap] = await LocalSource(interval=0.5).collect_once(timeout=10.0)

    assert snap.gpu_error == "NVIDIA driver not loaded (libnvidia-ml.so not found)"
    assert snap.gpus == ()
    assert snap.memory is not None and snap.cpu is not None and snap.disks


def test_every_gpu_field_comes_from_its_nvml_call(fake: FakeNvml) -> None:
    reading = GpuReader().read()

    assert reading.error is None
    first, second = reading.gpus
    assert (first.index, first.uuid, first.name) == (0, UUID0, "NVIDIA A100-SXM4-80GB")
    assert (first.util_percent, first.memory_util_percent) == (87.0, 41.0)
    assert (first.memory_used, first.memory_total) == (3 * 2**30, 80 * 2**30)
    assert first.temperature_c == 64.0
    assert (first.power_w, first.power_limit_w) == (251.5, 400.0)
    assert first.fan_percent is None
    assert first.bus_id == "00000000:07:00.0"
    assert (first.ecc_uncorrected, second.ecc_uncorrected) == (0, 2)
    assert (first.mig_mode, second.mig_mode) == ("Disabled", "Enabled")


def test_gpu_processes_carry_user_command_and_start_time_of_the_host_pid(fake: FakeNvml) -> None:
    [proc] = GpuReader().read().processes

    me = psutil.Process()
    assert (proc.pid, proc.gpu_index, proc.gpu_uuid) == (os.getpid(), 0, UUID0)
    assert proc.memory_used == 512 * 2**20
    assert proc.user == me.username()
    assert proc.command == " ".join(me.cmdline())
    assert proc.start_time == me.create_time()
    assert proc.container is None


def test_the_newest_process_call_is_used_when_the_driver_has_it(fake: FakeNvml) -> None:
    fake.has_v3 = True
    fake.processes = [(os.getpid(), None)]

    [proc] = GpuReader().read().processes

    assert proc.memory_used is None  # NVML reports "not available" (WDDM, MIG without privileges)


def test_a_gpu_process_that_already_exited_keeps_its_row_without_details(fake: FakeNvml) -> None:
    gone = psutil.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    fake.processes = [(gone.pid, 1024)]

    [proc] = GpuReader().read().processes

    assert proc.pid == gone.pid and proc.user is None and proc.command is None


def test_a_lost_gpu_is_reported_on_its_own_row(fake: FakeNvml) -> None:
    fake.lost = {1}

    reading = GpuReader().read()

    assert reading.error is None
    assert reading.gpus[0].error is None and reading.gpus[0].uuid == UUID0
    assert reading.gpus[1].index == 1 and reading.gpus[1].error == "GPU 1: GPU is lost"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (DRIVER_NOT_LOADED, "NVIDIA driver not loaded"),
        (MISMATCH, "Failed to initialize NVML: Driver/library version mismatch"),
    ],
)
def test_init_failures_read_as_nvidia_smi_would_say_them(
    fake: FakeNvml, code: int, message: str
) -> None:
    fake.init_error = code

    assert GpuReader().read().error == message


def test_a_failing_init_is_retried_every_30_s_not_every_tick(fake: FakeNvml) -> None:
    now = [1000.0]
    reader = GpuReader(clock=lambda: now[0])
    fake.init_error = DRIVER_NOT_LOADED

    reader.read()
    now[0] += 29.0
    assert reader.read().error == "NVIDIA driver not loaded"
    assert fake.init_calls == 1

    fake.init_error = None  # the driver got loaded
    now[0] += 1.5
    reading = reader.read()
    assert fake.init_calls == 2
    assert reading.error is None and len(reading.gpus) == 2
    reader.read()
    assert fake.init_calls == 2  # initialised once, then kept


def test_without_nvidia_ml_py_the_gpu_error_says_what_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError

    assert GpuReader().read().error == "nvidia-ml-py (pynvml) not installed"


async def test_a_crashing_gpu_section_never_loses_the_other_sections(fake: FakeNvml) -> None:
    fake.count_error = RuntimeError("boom")

    [snap] = await LocalSource(interval=0.5).collect_once(timeout=10.0)

    assert snap.gpu_error == "internal error: RuntimeError: boom"
    assert snap.cpu is not None and snap.cpu.percent is not None
    assert snap.memory is not None and snap.disks and snap.processes


async def test_a_hung_nvml_call_leaves_the_gpu_section_stale_and_the_snapshot_on_time(
    fake: FakeNvml,
) -> None:
    source = LocalSource(interval=0.5)
    first = await source.snapshot()
    assert first.gpu_error is None and len(first.gpus) == 2

    fake.gate = threading.Event()  # NVML now blocks, as on a GPU that fell off the bus
    started = time.monotonic()
    second = await source.snapshot()
    third = await source.snapshot()

    assert time.monotonic() - started < 2 * SECTION_WAIT_S + 2.0
    for snap in (second, third):
        assert len(snap.gpus) == 2  # the last good reading, marked stale
        assert snap.stale.get(Section.GPU, 0.0) > 0.0
        assert Section.SYSTEM not in snap.stale and snap.memory is not None
    assert third.stale[Section.GPU] > second.stale[Section.GPU]

    fake.gate.set()
    fourth = await source.snapshot()
    fifth = await source.snapshot()
    assert Section.GPU not in fifth.stale or Section.GPU not in fourth.stale
    await source.aclose()


async def test_a_gpu_section_that_never_answered_says_so(fake: FakeNvml) -> None:
    fake.gate = threading.Event()
    source = LocalSource(interval=0.5)

    snap = await source.snapshot()

    assert snap.gpu_error == f"no answer within {SECTION_WAIT_S:g} s"
    assert snap.memory is not None and snap.disks
