"""dcgm-exporter's MIG series folded under their GPU: one Gpu with its MigInstances.

On a MIG GPU dcgm-exporter watches the GPU instances, not the GPU: each series carries the
parent's `gpu` and `UUID` plus `GPU_I_ID` and `GPU_I_PROFILE`, and it names no compute
instance and no MIG UUID. DCGM_FI_DEV_GPU_UTIL is not reported for MIG instances; the
profiling field DCGM_FI_PROF_GR_ENGINE_ACTIVE (a 0-1 ratio) is, so it is the instance's
utilisation. Device-wide fields (temperature, power, XID) repeat the parent's value on
every instance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from clustertop.model import Gpu
from clustertop.model.mig import MigInstance

Entry = Mapping[str, object]
"""One GPU or GPU instance's fields by query name, and its `labels`."""


def labels_of(got: Entry) -> Mapping[str, str]:
    """The entry's label set (empty when malformed)."""
    labels = got.get("labels")
    return labels if isinstance(labels, dict) else {}


def instance_id(got: Entry) -> int | None:
    """The entry's GPU_I_ID; None for a whole GPU (or a label that is not a number)."""
    text = labels_of(got).get("GPU_I_ID", "")
    return int(text) if text.isdigit() else None


def engine_percent(got: Entry) -> float | None:
    """DCGM_FI_PROF_GR_ENGINE_ACTIVE as a percentage (None when absent or out of 0-1)."""
    ratio = got.get("gpu_gr_active")
    if not isinstance(ratio, float) or not 0.0 <= ratio <= 1.0:
        return None
    return round(100.0 * ratio, 4)


def mig_instance(got: Entry, gpu: Gpu) -> MigInstance:
    """The instance an entry describes; `gpu` is the entry read as a whole GPU."""
    profile = labels_of(got).get("GPU_I_PROFILE") or None
    return MigInstance(
        device_index=None,  # dcgm-exporter does not say which MIG device the GI is
        gpu_instance_id=instance_id(got),
        compute_instance_id=None,
        profile=profile,
        memory_used=gpu.memory_used,
        memory_total=gpu.memory_total,
        util_percent=engine_percent(got),
    )


def _sum(values: Sequence[int | None]) -> int | None:
    return None if not values or None in values else sum(v for v in values if v is not None)


def _most(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def fold(whole: Gpu | None, parts: Sequence[tuple[Gpu, MigInstance]]) -> Gpu:
    """One GPU with its instances (GI order): `whole` where the exporter also sent the GPU's
    own series, else built from the instances' (memory summed, device-wide fields shared)."""
    instances = tuple(sorted((i for _, i in parts), key=lambda i: i.gpu_instance_id or 0))
    base = whole or dataclasses.replace(
        parts[0][0],
        util_percent=None,  # the GPU's utilisation is not reported under MIG
        memory_used=_sum([g.memory_used for g, _ in parts]),
        memory_total=_sum([g.memory_total for g, _ in parts]),
        temperature_c=_most([g.temperature_c for g, _ in parts]),
        power_w=_most([g.power_w for g, _ in parts]),
        memory_util_percent=None,
        error=next((g.error for g, _ in parts if g.error), None),
    )
    return dataclasses.replace(base, mig_mode="Enabled", mig_instances=instances)


def fold_host(entries: Mapping[str, tuple[Entry, Gpu]]) -> list[Gpu]:
    """Every GPU of a host: whole GPUs as they are, MIG instances under their GPU."""
    whole: dict[int, Gpu] = {}
    parts: dict[int, list[tuple[Gpu, MigInstance]]] = {}
    for got, gpu in entries.values():
        if instance_id(got) is None:
            whole[gpu.index] = gpu
        else:
            parts.setdefault(gpu.index, []).append((gpu, mig_instance(got, gpu)))
    gpus = [gpu for index, gpu in whole.items() if index not in parts]
    gpus += [fold(whole.get(index), found) for index, found in parts.items()]
    return sorted(gpus, key=lambda g: g.index)
