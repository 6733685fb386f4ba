"""What one snapshot adds to the store for each MIG instance: one row per instance and holder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clustertop.analysis.mig import UnitState, gpu_of, host_unit_states
from clustertop.model import MIB, HostSnapshot, Section
from clustertop.store.rows import UNKNOWN_OWNER, Thresholds, verdict

UNIT_STATES = tuple(UnitState)
"""Instance states (as analysis.mig judges them) by their code in the store (the index)."""


@dataclass(frozen=True, slots=True)
class MigRow:
    """One MIG instance and one holder of it (owner "" and container "": nobody) in one reading."""

    gpu_index: int
    """nvidia-smi index of its GPU."""
    gpu_uuid: str
    """Its GPU's UUID ("" when unknown)."""
    gi: int | None
    """GPU instance ID."""
    ci: int | None
    """Compute instance ID."""
    uuid: str
    """MIG device UUID ("" when unknown)."""
    profile: str
    """Profile such as 1g.10gb ("" when unknown)."""
    owner: str
    """Who holds it ("" for an unheld instance)."""
    container: str
    """The holder's container name ("" when none)."""
    util: float | None
    """The instance's utilisation (None from nvidia-smi and NVML: they report none)."""
    mem: int
    """MiB this holder holds in it (the instance's use for an unheld instance)."""
    total: int | None
    """MiB of memory of its GPU instance."""
    state: int
    """Index in UNIT_STATES: busy, free or unknown as analysis.mig judges the instance."""
    flag: int
    """FLAG_BUSY, FLAG_IDLE (held idle) or FLAG_NONE, judged by the instance's own
    utilisation as the stale rule does: none while it is unknown."""


def mig_rows(snap: HostSnapshot, limits: Thresholds) -> Iterator[MigRow]:
    """One row per (instance, holder) of an up snapshot with a fresh GPU reading."""
    if not snap.is_up or Section.GPU in snap.stale:
        return
    if not any(gpu.mig_instances for gpu in snap.gpus):
        return
    states = host_unit_states(snap, memory_mib=limits.memory_mib, util_percent=limits.util_percent)
    for unit, state in states:
        inst = unit.instance
        if inst is None:
            continue
        held: dict[tuple[str, str], int] = {}
        for proc in snap.gpu_processes:
            if gpu_of(proc, snap.gpus) is unit.gpu and inst.runs(proc.mig):
                owner = proc.owner or proc.user or UNKNOWN_OWNER
                name = proc.container.name if proc.container is not None else ""
                held[(owner, name)] = held.get((owner, name), 0) + (proc.memory_used or 0)
        util = None if unit.error else inst.util_percent
        total = None if inst.memory_total is None else inst.memory_total // MIB
        ids = (unit.gpu.index, unit.gpu.uuid, inst.gpu_instance_id, inst.compute_instance_id)
        names = (inst.uuid or "", inst.profile or "")
        code = UNIT_STATES.index(state)
        if not held:
            used = (inst.memory_used or 0) // MIB
            flag = verdict(util, None, limits)
            yield MigRow(*ids, *names, "", "", util, used, total, code, flag)
        for (owner, name), used in held.items():
            mib = used // MIB
            flag = verdict(util, mib, limits)
            yield MigRow(*ids, *names, owner, name, util, mib, total, code, flag)
