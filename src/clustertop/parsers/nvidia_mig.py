"""MIG devices from `nvidia-smi -L` and `nvidia-smi -q -x`, and joining them onto their GPUs."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from clustertop.model import Gpu
from clustertop.model.mig import MigInstance
from clustertop.parsers.values import bracketed, integer, memory_bytes

# `GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-63d1e50a-...)`
_GPU_LINE = re.compile(r"^GPU (\d+): (.*?) \(UUID: (GPU-[^)\s]+)\)\s*$")
# `  MIG 1g.10gb     Device  0: (UUID: MIG-4d0efb7d-...)`; drivers before R470 printed
# `MIG 1g.5gb Device 0: (UUID: MIG-GPU-<gpu uuid>/<gi>/<ci>)`, taken as the UUID too.
_MIG_LINE = re.compile(r"^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)\s*$")
_PROFILE = re.compile(r"^\d+g\.\d+gb(?:\+[a-z]+)*$|^\d+c\.\d+g\.\d+gb$")


@dataclass(frozen=True, slots=True)
class ListedGpu:
    """One GPU of `nvidia-smi -L` with its MIG devices."""

    index: int
    """nvidia-smi index."""
    uuid: str
    """GPU UUID."""
    name: str
    """Product name."""
    instances: tuple[MigInstance, ...] = ()
    """Its MIG devices: device index, profile and UUID (no IDs or memory)."""


def parse_gpu_list(text: str) -> tuple[list[ListedGpu], list[str]]:
    """GPUs and MIG devices of `nvidia-smi -L`, plus the lines that are neither.

    A MIG line before any GPU line, or one whose profile is not `<n>g.<m>gb`, is returned as
    not understood rather than guessed onto a GPU.
    """
    gpus: list[ListedGpu] = []
    instances: list[list[MigInstance]] = []
    other: list[str] = []
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        if gpu := _GPU_LINE.match(line):
            gpus.append(ListedGpu(int(gpu.group(1)), gpu.group(3), gpu.group(2)))
            instances.append([])
        elif (mig := _MIG_LINE.match(line)) and gpus and _PROFILE.match(mig.group(1)):
            instances[-1].append(
                MigInstance(int(mig.group(2)), None, None, profile=mig.group(1), uuid=mig.group(3))
            )
        else:
            other.append(line.strip())
    listed = [
        dataclasses.replace(g, instances=tuple(i)) for g, i in zip(gpus, instances, strict=True)
    ]
    return listed, other


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else (found.text or "").strip()


def _id(element: ET.Element, path: str) -> tuple[int | None, str | None]:
    """An ID cell and, when it holds a bracketed or N/A marker, that marker as the reason."""
    raw = _text(element, path)
    value = integer(raw)
    if value is not None or raw is None:
        return value, None
    return None, bracketed(raw) or raw or "empty"


def mig_device_from_xml(element: ET.Element) -> MigInstance:
    """One `<mig_device>`: IDs, memory and SM count; unreadable IDs give the instance an error."""
    gi, gi_why = _id(element, "gpu_instance_id")
    ci, ci_why = _id(element, "compute_instance_id")
    why = gi_why or ci_why
    return MigInstance(
        device_index=integer(_text(element, "index")),
        gpu_instance_id=gi,
        compute_instance_id=ci,
        memory_used=memory_bytes(_text(element, "fb_memory_usage/used")),
        memory_total=memory_bytes(_text(element, "fb_memory_usage/total")),
        multiprocessor_count=integer(
            _text(element, "device_attributes/shared/multiprocessor_count")
        ),
        error=f"MIG IDs not readable: {why}" if why else None,
    )


def mig_devices_from_xml(gpu: ET.Element) -> tuple[tuple[MigInstance, ...], str | None]:
    """The `<mig_devices>` of one `<gpu>` and why they could not be read (None: fine or absent).

    Absent (drivers before R450, MIG off) or `None` text: no instances and no error. Text such
    as `[Insufficient Permissions]` in place of the list: no instances and that text as error.
    """
    devices = gpu.find("mig_devices")
    if devices is None:
        return (), None
    found = tuple(mig_device_from_xml(device) for device in devices.findall("mig_device"))
    marker = (devices.text or "").strip()
    if not found and marker and marker.upper() not in ("NONE", "N/A", "[N/A]"):
        return (), f"MIG devices not readable: {bracketed(marker) or marker}"
    return found, None


def _listed_for(gpu: Gpu, listing: Sequence[ListedGpu]) -> ListedGpu | None:
    for listed in listing:
        if (gpu.uuid and listed.uuid == gpu.uuid) or (not gpu.uuid and listed.index == gpu.index):
            return listed
    return None


def _joined(instance: MigInstance, listed: MigInstance | None) -> MigInstance:
    if listed is None:
        return instance
    return dataclasses.replace(instance, profile=listed.profile, uuid=listed.uuid)


def join_mig(gpus: Sequence[Gpu], listing: Sequence[ListedGpu]) -> list[Gpu]:
    """GPUs with `nvidia-smi -L`'s profiles and MIG UUIDs joined onto their instances.

    Instances are matched by MIG device index on the same GPU (by UUID, else by index). A GPU
    with no instances from `-q -x` (MIG data from `-L` only) gets the listed ones; a GPU whose
    MIG mode says Disabled gets none.
    """
    result = []
    for gpu in gpus:
        listed = _listed_for(gpu, listing)
        if listed is None or gpu.mig_mode == "Disabled" or not listed.instances:
            result.append(gpu)
            continue
        if not gpu.mig_instances:
            result.append(dataclasses.replace(gpu, mig_instances=listed.instances))
            continue
        by_device = {i.device_index: i for i in listed.instances}
        joined = tuple(_joined(i, by_device.get(i.device_index)) for i in gpu.mig_instances)
        result.append(dataclasses.replace(gpu, mig_instances=joined))
    return result
