"""Free GPUs and free MIG instances across the cluster, by host, with ready-to-paste ssh lines."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from clustertop.analysis.mig import GpuUnit, UnitState, host_unit_states
from clustertop.model import MIB, Gpu, HostSnapshot, Section
from clustertop.model.amd import AMD, NVIDIA
from clustertop.model.mig import MigInstance

DEFAULT_MEMORY_MIB = 500
"""Most MiB in use on a GPU that still counts as free."""
DEFAULT_UTIL_PERCENT = 5.0
"""Most utilisation on a GPU that still counts as free, percent."""


@dataclass(frozen=True, slots=True)
class FreeGpu:
    """One free GPU, or one free MIG instance of a GPU."""

    index: int
    """nvidia-smi index (PCI bus order)."""
    uuid: str
    """GPU UUID."""
    name: str
    """Product name."""
    memory_free: int | None
    """Bytes not in use (None when the total is unknown)."""
    memory_total: int | None
    """Bytes of GPU memory."""
    vendor: str = NVIDIA
    """"nvidia" or "amd"."""
    instance: MigInstance | None = None
    """The free MIG instance (None: the whole GPU is free); index, uuid and name are its GPU's."""
    ready_line: str | None = None
    """`ssh <host> CUDA_VISIBLE_DEVICES=MIG-<uuid>` for an instance (None: whole GPU, or the
    instance's MIG UUID is unknown)."""


@dataclass(frozen=True, slots=True)
class HostFreeGpus:
    """The free GPUs of one up host."""

    host: str
    """Host name as the user gave it."""
    gpus: tuple[FreeGpu, ...]
    """Its free GPUs, by index."""
    ready_line: str
    """`ssh <host> CUDA_VISIBLE_DEVICES=2,3` (HIP_VISIBLE_DEVICES for AMD; the host
    shell-quoted), to paste and complete; with no whole GPU free, the first free MIG instance's
    line (CUDA takes one MIG device)."""
    vendor: str = NVIDIA
    """Whose GPUs these are: a host with free GPUs of both vendors has one entry for each."""

    @property
    def indices(self) -> tuple[int, ...]:
        """Indices of the free whole GPUs."""
        return tuple(gpu.index for gpu in self.gpus if gpu.instance is None)

    @property
    def uuids(self) -> tuple[str, ...]:
        """UUIDs of the free whole GPUs."""
        return tuple(gpu.uuid for gpu in self.gpus if gpu.instance is None)

    @property
    def instances(self) -> tuple[FreeGpu, ...]:
        """The free MIG instances."""
        return tuple(gpu for gpu in self.gpus if gpu.instance is not None)

    @property
    def memory_free(self) -> int:
        """Bytes free over the free GPUs (unknown ones count 0)."""
        return sum(gpu.memory_free or 0 for gpu in self.gpus)


def gpu_is_free(
    gpu: Gpu,
    busy_uuids: frozenset[str] | set[str],
    *,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    util_percent: float = DEFAULT_UTIL_PERCENT,
) -> bool:
    """No process on it, memory and utilisation known and at or under the limits, no error."""
    return (
        gpu.error is None
        and gpu.uuid not in busy_uuids
        and gpu.memory_used is not None
        and gpu.memory_used <= memory_mib * MIB
        and gpu.util_percent is not None
        and gpu.util_percent <= util_percent
    )


def gpus_with_processes(snap: HostSnapshot) -> set[str]:
    """UUIDs of the GPUs a compute process runs on (by UUID, else by index)."""
    uuid_of = {gpu.index: gpu.uuid for gpu in snap.gpus}
    return {proc.gpu_uuid or uuid_of.get(proc.gpu_index, "") for proc in snap.gpu_processes}


def ready_line(
    host: str, gpus: Iterable[Gpu], all_gpus: Iterable[Gpu] = (), vendor: str = NVIDIA
) -> str:
    """`ssh <host> CUDA_VISIBLE_DEVICES=i,j` (AMD: `HIP_VISIBLE_DEVICES=i,j`), the host
    shell-quoted only when it needs it.

    CUDA numbers GPUs fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, while nvidia-smi's
    indices are in PCI bus order; the two agree on a host of one GPU model, so the order
    variable is added only on hosts that mix NVIDIA models. HIP and amd-smi both count AMD
    GPUs in PCI bus order.
    """
    devices = ",".join(str(gpu.index) for gpu in gpus)
    if vendor == AMD:
        return f"ssh {shlex.quote(host)} HIP_VISIBLE_DEVICES={devices}"
    names = {gpu.name for gpu in all_gpus if gpu.vendor == NVIDIA}
    order = "CUDA_DEVICE_ORDER=PCI_BUS_ID " if len(names) > 1 else ""
    return f"ssh {shlex.quote(host)} {order}CUDA_VISIBLE_DEVICES={devices}"


def mig_ready_line(host: str, instance: MigInstance) -> str | None:
    """`ssh <host> CUDA_VISIBLE_DEVICES=MIG-<uuid>`; None when the MIG UUID is unknown."""
    if not instance.uuid:
        return None
    return f"ssh {shlex.quote(host)} CUDA_VISIBLE_DEVICES={shlex.quote(instance.uuid)}"


def _unit_order(unit: GpuUnit) -> tuple[int, int]:
    """GPU index, then the whole GPU before its instances, instances by MIG device index."""
    if unit.instance is None:
        return (unit.gpu.index, -1)
    device = unit.instance.device_index
    return (unit.gpu.index, device if device is not None else 1 << 30)


def _entry(host: str, unit: GpuUnit) -> FreeGpu:
    total, used = unit.memory_total, unit.memory_used
    instance = unit.instance
    return FreeGpu(
        index=unit.gpu.index,
        uuid=unit.gpu.uuid,
        name=unit.gpu.name,
        memory_free=None if total is None else total - (used or 0),
        memory_total=total,
        vendor=unit.gpu.vendor,
        instance=instance,
        ready_line=None if instance is None else mig_ready_line(host, instance),
    )


def host_free_gpus(
    snap: HostSnapshot,
    *,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    util_percent: float = DEFAULT_UTIL_PERCENT,
) -> list[HostFreeGpus]:
    """The free GPUs and MIG instances of one snapshot, one entry per vendor (NVIDIA first);
    none when the host is not up, its GPU data is stale, or nothing is free. A GPU with MIG
    instances is offered only by instance."""
    if not snap.is_up or Section.GPU in snap.stale:
        return []
    states = host_unit_states(snap, memory_mib=memory_mib, util_percent=util_percent)
    free = sorted(
        (unit for unit, state in states if state is UnitState.FREE),
        key=_unit_order,
    )
    vendors = sorted({unit.gpu.vendor for unit in free}, key=lambda v: (v != NVIDIA, v))
    return [_vendor_entry(snap, [u for u in free if u.gpu.vendor == v], v) for v in vendors]


def _vendor_entry(snap: HostSnapshot, free: list[GpuUnit], vendor: str) -> HostFreeGpus:
    entries = tuple(_entry(snap.name, unit) for unit in free)
    whole = [unit.gpu for unit in free if unit.instance is None]
    if whole:
        line = ready_line(snap.name, whole, snap.gpus, vendor)
    else:
        line = next((e.ready_line for e in entries if e.ready_line), "")
    return HostFreeGpus(snap.name, entries, line, vendor)


def free_gpus(
    snapshots: Iterable[HostSnapshot],
    *,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    util_percent: float = DEFAULT_UTIL_PERCENT,
) -> list[HostFreeGpus]:
    """Hosts with free GPUs: most free GPUs first, then most free memory, then by name."""
    found = [
        entry
        for snap in snapshots
        for entry in host_free_gpus(snap, memory_mib=memory_mib, util_percent=util_percent)
    ]
    found.sort(key=lambda entry: (-len(entry.gpus), -entry.memory_free, entry.host))
    return found


def free_gpus_json(entries: Iterable[HostFreeGpus]) -> list[dict[str, Any]]:
    """Plain dicts for `--json`."""
    return [
        {
            "host": entry.host,
            "count": len(entry.gpus),
            "indices": list(entry.indices),
            "uuids": list(entry.uuids),
            "memory_free": entry.memory_free,
            "mig_count": len(entry.instances),
            "gpus": [_free_gpu_json(gpu) for gpu in entry.gpus],
            "ready_line": entry.ready_line,
            "vendor": entry.vendor,
        }
        for entry in entries
    ]


def _free_gpu_json(gpu: FreeGpu) -> dict[str, Any]:
    instance = gpu.instance
    return {
        "index": gpu.index,
        "uuid": gpu.uuid,
        "name": gpu.name,
        "memory_free": gpu.memory_free,
        "memory_total": gpu.memory_total,
        "vendor": gpu.vendor,
        "mig": None
        if instance is None
        else {
            "profile": instance.profile,
            "uuid": instance.uuid,
            "gpu_instance_id": instance.gpu_instance_id,
            "compute_instance_id": instance.compute_instance_id,
        },
        "ready_line": gpu.ready_line,
    }
