"""Local MIG instances through NVML's MIG calls, each guarded (old drivers, old pynvml, rights)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from clustertop.model import GpuProcess
from clustertop.model.mig import MigInstance, MigRef

# NVML return codes (C ABI): a MIG slot without a device, a lost GPU.
_NOT_FOUND = 6
_GPU_IS_LOST = 15
_INVALID_ID = 0xFFFFFFFF
"""What NVML puts in a process's gpuInstanceId/computeInstanceId outside MIG."""
_PROFILE = re.compile(r"\bMIG (\d+(?:c\.\d+)?g\.\d+gb(?:\+\w+)*)\s*$")

_CALLS = (
    "nvmlDeviceGetMaxMigDeviceCount",
    "nvmlDeviceGetMigDeviceHandleByIndex",
    "nvmlDeviceGetGpuInstanceId",
    "nvmlDeviceGetComputeInstanceId",
)
"""The calls without which no instance can be named (pynvml older than 11.0 lacks them)."""


class MigLost(Exception):
    """The GPU stopped answering while its instances were read."""


def _text(value: Any) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _optional(nvml: Any, name: str, *args: Any) -> Any:
    call = getattr(nvml, name, None)
    if call is None:
        return None
    try:
        return call(*args)
    except nvml.NVMLError as exc:
        if getattr(exc, "value", None) == _GPU_IS_LOST:
            raise MigLost(str(exc)) from exc
        return None


def _placement(nvml: Any, handle: Any, gi: int) -> tuple[int, int] | None:
    gi_handle = _optional(nvml, "nvmlDeviceGetGpuInstanceById", handle, gi)
    info = None if gi_handle is None else _optional(nvml, "nvmlGpuInstanceGetInfo", gi_handle)
    placement = getattr(info, "placement", None)
    if placement is None:
        return None
    return int(placement.start), int(placement.size)


def _instance(nvml: Any, handle: Any, index: int, mig: Any) -> MigInstance:
    gi = int(nvml.nvmlDeviceGetGpuInstanceId(mig))
    ci = int(nvml.nvmlDeviceGetComputeInstanceId(mig))
    memory = _optional(nvml, "nvmlDeviceGetMemoryInfo", mig)
    name = _optional(nvml, "nvmlDeviceGetName", mig)
    profile = _PROFILE.search(_text(name)) if name is not None else None
    attributes = _optional(nvml, "nvmlDeviceGetAttributes", mig)
    uuid = _optional(nvml, "nvmlDeviceGetUUID", mig)
    sm = getattr(attributes, "multiprocessorCount", None)
    return MigInstance(
        device_index=index,
        gpu_instance_id=gi,
        compute_instance_id=ci,
        profile=profile.group(1) if profile else None,
        uuid=_text(uuid) if uuid is not None else None,
        memory_used=int(memory.used) if memory is not None else None,
        memory_total=int(memory.total) if memory is not None else None,
        multiprocessor_count=int(sm) if sm is not None else None,
        placement=_placement(nvml, handle, gi),
    )


def read_instances(nvml: Any, handle: Any) -> tuple[tuple[MigInstance, ...], str | None]:
    """The MIG devices of a GPU in MIG mode, and why they could not be read (None: read).

    Raises MigLost when the GPU is lost; every other NVML failure becomes the error text.
    """
    missing = [name for name in _CALLS if getattr(nvml, name, None) is None]
    if missing:
        return (), f"MIG: this nvidia-ml-py has no {missing[0]} (too old for MIG)"
    try:
        count = int(nvml.nvmlDeviceGetMaxMigDeviceCount(handle))
        instances = []
        for index in range(count):
            try:
                mig = nvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, index)
            except nvml.NVMLError as exc:
                if getattr(exc, "value", None) == _NOT_FOUND:
                    continue  # an empty slot: fewer instances than the GPU could hold
                raise
            instances.append(_instance(nvml, handle, index, mig))
    except nvml.NVMLError as exc:
        if getattr(exc, "value", None) == _GPU_IS_LOST:
            raise MigLost(str(exc)) from exc
        return (), f"MIG devices not readable: {exc}"
    return tuple(instances), None


def _id(value: Any) -> int | None:
    return None if value is None or int(value) == _INVALID_ID else int(value)


def instance_ref(info: Any, instances: Iterable[MigInstance]) -> MigRef | None:
    """The instance an NVML process record names (None outside MIG or when not reported)."""
    gi = _id(getattr(info, "gpuInstanceId", None))
    if gi is None:
        return None
    ci = _id(getattr(info, "computeInstanceId", None))
    ref = MigRef(gi, ci)
    match = next((i for i in instances if i.runs(ref)), None)
    return MigRef(gi, ci, match.uuid) if match is not None else ref


def with_refs(
    processes: list[GpuProcess], infos: list[Any], instances: tuple[MigInstance, ...]
) -> list[GpuProcess]:
    """Processes (built from `infos`, same order) with the MIG instance each runs in."""
    return [
        dataclasses.replace(proc, mig=instance_ref(info, instances))
        for proc, info in zip(processes, infos, strict=True)
    ]
