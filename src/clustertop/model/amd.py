"""AMD GPUs in the model: the vendor names and how an AMD GPU is identified."""

from __future__ import annotations

import re
from collections.abc import Sequence

from clustertop.model import Gpu

NVIDIA = "nvidia"
"""Gpu.vendor of an NVIDIA GPU (the default)."""
AMD = "amd"
"""Gpu.vendor of an AMD GPU."""

_BUS_ID = re.compile(r"^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})\.([0-7])$")


def normal_bus_id(text: str | None) -> str | None:
    """`0000:A3:00.0`, `a3:00.0` -> `0000:a3:00.0` (sysfs's spelling); None when not a bus ID."""
    match = _BUS_ID.match((text or "").strip())
    if match is None:
        return None
    domain, bus, device, function = match.groups()
    return f"{int(domain or '0', 16):04x}:{int(bus, 16):02x}:{int(device, 16):02x}.{function}"


def amd_gpu_uuid(bus_id: str | None, card: str | None = None) -> str:
    """The `uuid` of an AMD GPU: its PCI bus ID.

    AMD tools give no GPU UUID on every version (rocm-smi's Unique ID and amd-smi's asic_serial
    are often N/A, sysfs has unique_id only on some boards), while every reading (amd-smi,
    rocm-smi, sysfs, the amdsmi library) names the bus ID, so the bus ID is what stays the same
    from one reading to the next. Without one (a trimmed rocm-smi output) the DRM card name
    stands in.
    """
    return normal_bus_id(bus_id) or f"amd-{card or 'unknown'}"


def container_gpu_map(gpus: Sequence[Gpu]) -> dict[int, Gpu]:
    """GPU by index, for reading a container's index list (Container.gpus).

    On a host with both vendors indices repeat; Docker's GPU requests name NVIDIA GPUs, and
    processes are matched by UUID instead, so only NVIDIA's GPUs are listed there.
    """
    mixed = mixed_vendors(gpus)
    return {gpu.index: gpu for gpu in gpus if not mixed or gpu.vendor == NVIDIA}


def mixed_vendors(gpus: Sequence[Gpu]) -> bool:
    """True when the GPUs come from more than one vendor."""
    return len({gpu.vendor for gpu in gpus}) > 1
