"""What one snapshot adds to the store for each MIG instance: one row per instance and holder."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clustertop.analysis.mig import GpuUnit, UnitState, processes_by_gpu, unit_state
from clustertop.model import MIB, Gpu, GpuProcess, HostSnapshot, Section
from clustertop.model.mig import MigInstance
from clustertop.store.rows import UNKNOWN_OWNER, Thresholds, in_instances, verdict

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


def mig_rows(
    snap: HostSnapshot,
    limits: Thresholds,
    placed: dict[int, tuple[Gpu, MigInstance]] | None = None,
) -> Iterator[MigRow]:
    """One row per (instance, holder) of an up snapshot with a fresh GPU reading; `placed`:
    its in_instances() when the caller has it."""
    if not snap.is_up or Section.GPU in snap.stale:
        return
    if not any(gpu.mig_instances for gpu in snap.gpus):
        return
    if placed is None:
        placed = in_instances(snap)
    mine: dict[tuple[int, int], list[GpuProcess]] = {}  # (id(GPU), id(instance)) -> processes
    loose: dict[int, list[GpuProcess]] = {}  # id(GPU) -> processes in no known instance
    for index, procs in processes_by_gpu(snap).items():
        for proc in procs:
            where = placed.get(id(proc))
            if where is not None:
                mine.setdefault((id(where[0]), id(where[1])), []).append(proc)
            else:
                loose.setdefault(index, []).append(proc)
    for gpu in snap.gpus:
        for inst in gpu.mig_instances:
            procs = mine.get((id(gpu), id(inst)), [])
            # unit_state sees the instance's processes and those in no known instance: the
            # same verdict as over every process of the GPU, without judging each one 7 times.
            state = unit_state(
                GpuUnit(gpu, inst),
                [*procs, *loose.get(gpu.index, ())],
                memory_mib=limits.memory_mib,
                util_percent=limits.util_percent,
            )
            yield from _rows(gpu, inst, procs, UNIT_STATES.index(state), limits)


def _rows(
    gpu: Gpu, inst: MigInstance, procs: list[GpuProcess], state: int, limits: Thresholds
) -> Iterator[MigRow]:
    held: dict[tuple[str, str], int] = {}
    for proc in procs:
        owner = proc.owner or proc.user or UNKNOWN_OWNER
        name = proc.container.name if proc.container is not None else ""
        held[(owner, name)] = held.get((owner, name), 0) + (proc.memory_used or 0)
    util = None if gpu.error or inst.error else inst.util_percent
    total = None if inst.memory_total is None else inst.memory_total // MIB
    ids = (gpu.index, gpu.uuid, inst.gpu_instance_id, inst.compute_instance_id)
    names = (inst.uuid or "", inst.profile or "")
    if not held:
        used = (inst.memory_used or 0) // MIB
        yield MigRow(*ids, *names, "", "", util, used, total, state, verdict(util, None, limits))
    for (owner, name), used in held.items():
        mib = used // MIB
        yield MigRow(*ids, *names, owner, name, util, mib, total, state, verdict(util, mib, limits))
