"""Vendor labels for hosts that mix NVIDIA and AMD GPUs (elsewhere the vendor goes unsaid)."""

from __future__ import annotations

from clustertop.model import Gpu, GpuProcess, HostSnapshot
from clustertop.model.amd import AMD
from clustertop.util.units import duration

_LABELS = {AMD: "AMD"}


def mixed_vendors(snap: HostSnapshot) -> bool:
    """True when the host has GPUs of more than one vendor."""
    return len({gpu.vendor for gpu in snap.gpus}) > 1


def vendor_label(vendor: str) -> str:
    """ "AMD", "NVIDIA"."""
    return _LABELS.get(vendor, vendor.upper())


def gpu_name(gpu: Gpu, snap: HostSnapshot) -> str:
    """The GPU's name, led by its vendor on a mixed host (indices repeat across vendors there),
    and first by the age of its figures where they come from a slower reading ("2m30s old ·")."""
    name = f"{vendor_label(gpu.vendor)} · {gpu.name}" if mixed_vendors(snap) else gpu.name
    if gpu.reading_age_s is None:
        return name
    return f"{duration(gpu.reading_age_s)} old · {name}"


def process_gpu(proc: GpuProcess, snap: HostSnapshot) -> str:
    """The index of a process's GPU, led by its vendor's initial on a mixed host ("A0", "N1":
    the column is three characters wide)."""
    if not mixed_vendors(snap):
        return str(proc.gpu_index)
    vendor = next((g.vendor for g in snap.gpus if g.uuid == proc.gpu_uuid), None)
    return f"{vendor_label(vendor)[0]}{proc.gpu_index}" if vendor else str(proc.gpu_index)
