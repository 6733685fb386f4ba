"""Schema 2 keys for MIG: a GPU's instances and a GPU process's instance, as plain dicts."""

from __future__ import annotations

from typing import Any

from clustertop.model.mig import MigInstance, MigRef


def mig_instance_json(instance: MigInstance) -> dict[str, Any]:
    """One MIG device of a GPU."""
    return {
        "device_index": instance.device_index,
        "gpu_instance_id": instance.gpu_instance_id,
        "compute_instance_id": instance.compute_instance_id,
        "profile": instance.profile,
        "uuid": instance.uuid,
        "memory_used": instance.memory_used,
        "memory_total": instance.memory_total,
        "multiprocessor_count": instance.multiprocessor_count,
        "placement": None if instance.placement is None else list(instance.placement),
        "util_percent": instance.util_percent,
        "error": instance.error,
    }


def mig_ref_json(ref: MigRef | None) -> dict[str, Any] | None:
    """The MIG instance a process runs in; None on a whole GPU."""
    if ref is None:
        return None
    return {
        "gpu_instance_id": ref.gpu_instance_id,
        "compute_instance_id": ref.compute_instance_id,
        "uuid": ref.uuid,
    }
