"""Local NVIDIA GPUs and their compute processes through NVML (nvidia-ml-py, imported as pynvml)."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clustertop.model import ContainerRef, Gpu, GpuProcess
from clustertop.sources.local.mig import MigLost, read_instances, with_refs
from clustertop.sources.local.processes import describe_pid

INIT_RETRY_S = 30.0
"""Seconds between nvmlInit attempts while it keeps failing."""

# NVML return codes: part of the C ABI, stable across driver versions.
_NOT_SUPPORTED = 3
_UNINITIALIZED = 1
_DRIVER_NOT_LOADED = 9
_LIBRARY_NOT_FOUND = 12
_FUNCTION_NOT_FOUND = 13
_GPU_IS_LOST = 15
_TEMPERATURE_GPU = 0
_MEMORY_ERROR_UNCORRECTED = 1
_VOLATILE_ECC = 0
_MIG_ENABLED = 1

_PROCESS_CALLS = (
    "nvmlDeviceGetComputeRunningProcesses_v3",
    "nvmlDeviceGetComputeRunningProcesses_v2",
    "nvmlDeviceGetComputeRunningProcesses",
)
"""Newest first: an older driver lacks the newer symbols."""


def nvml_module() -> Any:
    """The pynvml module, or None when nvidia-ml-py is not installed (tests swap in a fake)."""
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


@dataclass(frozen=True, slots=True)
class GpuReading:
    """The GPU section of one local snapshot."""

    gpus: tuple[Gpu, ...] = ()
    """GPUs in index order."""
    processes: tuple[GpuProcess, ...] = ()
    """Compute processes; container names and owners not yet resolved."""
    error: str | None = None
    """Why GPUs could not be read."""


class _GpuLost(Exception):
    """A GPU stopped answering in the middle of a reading."""


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def init_error_text(nvml: Any, exc: Any) -> str:
    """What nvmlInit's failure means to a user."""
    code = getattr(exc, "value", None)
    if code == _LIBRARY_NOT_FOUND:
        return "NVIDIA driver not loaded (libnvidia-ml.so not found)"
    if code == _DRIVER_NOT_LOADED:
        return "NVIDIA driver not loaded"
    try:
        # The library's own text, e.g. "Driver/library version mismatch" as nvidia-smi prints it.
        message = _text(nvml.nvmlErrorString(code))
    except Exception:  # noqa: BLE001 - any failure here just means "use pynvml's text"
        message = str(exc)
    return f"Failed to initialize NVML: {message}"


class GpuReader:
    """Initialises NVML once (retrying every INIT_RETRY_S while it fails) and reads every GPU."""

    def __init__(
        self,
        retry_s: float = INIT_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._retry_s = retry_s
        self._clock = clock
        self._nvml: Any = None
        self._error: str | None = None
        self._next_try = float("-inf")

    def read(self) -> GpuReading:
        """One reading of all GPUs and their processes."""
        nvml = self._initialised()
        if nvml is None:
            return GpuReading(error=self._error)
        try:
            count = nvml.nvmlDeviceGetCount()
        except nvml.NVMLError as exc:
            if getattr(exc, "value", None) in (_UNINITIALIZED, _DRIVER_NOT_LOADED):
                self._nvml = None  # driver unloaded under us: initialise again later
                self._next_try = self._clock() + self._retry_s
            return GpuReading(error=f"NVML: {exc}")
        gpus: list[Gpu] = []
        processes: list[GpuProcess] = []
        for index in range(count):
            gpu, gpu_processes = self._read_gpu(nvml, index)
            gpus.append(gpu)
            processes.extend(gpu_processes)
        return GpuReading(tuple(gpus), tuple(processes))

    def close(self) -> None:
        """Shut NVML down if it was initialised."""
        nvml, self._nvml = self._nvml, None
        if nvml is not None:
            with contextlib.suppress(nvml.NVMLError):  # shutting down: no one to tell
                nvml.nvmlShutdown()

    def _initialised(self) -> Any:
        if self._nvml is not None or self._clock() < self._next_try:
            return self._nvml
        nvml = nvml_module()  # looked up at each attempt: the one seam tests replace
        if nvml is None:
            self._error = "nvidia-ml-py (pynvml) not installed"
            self._next_try = float("inf")
            return None
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            self._error = init_error_text(nvml, exc)
            self._next_try = self._clock() + self._retry_s
            return None
        self._nvml, self._error = nvml, None
        return nvml

    def _read_gpu(self, nvml: Any, index: int) -> tuple[Gpu, list[GpuProcess]]:
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            gpu = _gpu(nvml, index, handle)
            if gpu.mig_mode == "Enabled":
                instances, error = read_instances(nvml, handle)
                gpu = dataclasses.replace(gpu, mig_instances=instances, mig_error=error)
            return gpu, _processes(nvml, gpu, handle)
        except (nvml.NVMLError, _GpuLost, MigLost) as exc:
            return _failed_gpu(index, f"GPU {index}: {exc}"), []


def _optional(nvml: Any, call: Callable[..., Any], *args: Any) -> Any:
    """The call's value, None when the GPU does not support or allow it; a lost GPU raises."""
    try:
        return call(*args)
    except nvml.NVMLError as exc:
        if getattr(exc, "value", None) == _GPU_IS_LOST:
            raise _GpuLost(str(exc)) from exc
        return None


def _failed_gpu(index: int, error: str) -> Gpu:
    return Gpu(index, "", "", None, None, None, None, None, None, error=error)


def _gpu(nvml: Any, index: int, handle: Any) -> Gpu:
    def get(name: str, *args: Any) -> Any:
        return _optional(nvml, getattr(nvml, name), handle, *args)

    util = get("nvmlDeviceGetUtilizationRates")
    memory = get("nvmlDeviceGetMemoryInfo")
    power = get("nvmlDeviceGetPowerUsage")
    limit = get("nvmlDeviceGetEnforcedPowerLimit") or get("nvmlDeviceGetPowerManagementLimit")
    pci = get("nvmlDeviceGetPciInfo")
    mig = get("nvmlDeviceGetMigMode")
    return Gpu(
        index=index,
        uuid=_text(nvml.nvmlDeviceGetUUID(handle)),
        name=_text(get("nvmlDeviceGetName") or ""),
        util_percent=float(util.gpu) if util is not None else None,
        memory_used=int(memory.used) if memory is not None else None,
        memory_total=int(memory.total) if memory is not None else None,
        temperature_c=_float(get("nvmlDeviceGetTemperature", _TEMPERATURE_GPU)),
        power_w=power / 1000.0 if power is not None else None,
        power_limit_w=limit / 1000.0 if limit is not None else None,
        fan_percent=_float(get("nvmlDeviceGetFanSpeed")),
        memory_util_percent=float(util.memory) if util is not None else None,
        bus_id=_text(pci.busId) if pci is not None else None,
        ecc_uncorrected=get(
            "nvmlDeviceGetTotalEccErrors", _MEMORY_ERROR_UNCORRECTED, _VOLATILE_ECC
        ),
        mig_mode=None if mig is None else ("Enabled" if mig[0] == _MIG_ENABLED else "Disabled"),
    )


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def _running_processes(nvml: Any, handle: Any) -> list[Any]:
    # pynvml's unversioned call raises NVMLLibraryMismatchError (not an NVMLError) when the
    # driver lacks the newest symbol: then the next older version is tried.
    mismatch = getattr(nvml, "NVMLLibraryMismatchError", nvml.NVMLError)
    for name in _PROCESS_CALLS:
        call = getattr(nvml, name, None)
        if call is None:
            continue
        try:
            return list(call(handle))
        except nvml.NVMLError as exc:
            code = getattr(exc, "value", None)
            if code == _GPU_IS_LOST:
                raise _GpuLost(str(exc)) from exc
            if code != _FUNCTION_NOT_FOUND:
                return []  # not supported or not allowed: the GPU still shows, without processes
        except mismatch:
            continue
    return []


def _processes(nvml: Any, gpu: Gpu, handle: Any) -> list[GpuProcess]:
    rows = []
    infos = _running_processes(nvml, handle)
    for info in infos:
        used = getattr(info, "usedGpuMemory", None)
        described = describe_pid(int(info.pid))
        container_id = described.container_id if described else None
        rows.append(
            GpuProcess(
                pid=int(info.pid),
                gpu_index=gpu.index,
                gpu_uuid=gpu.uuid,
                memory_used=int(used) if used is not None else None,
                user=described.user if described else None,
                command=described.command if described else None,
                container=ContainerRef(container_id, "") if container_id else None,
                start_time=described.start_time if described else None,
                attribution=described.attribution if described else None,
            )
        )
    # On a MIG GPU each record names its GPU and compute instance (NVML's v2/v3 structs).
    return with_refs(rows, infos, gpu.mig_instances) if gpu.mig_mode == "Enabled" else rows
