"""GPU units: a whole GPU, or each MIG instance of a partitioned one; which are busy or free."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from clustertop.model import MIB, Gpu, GpuProcess, HostSnapshot
from clustertop.model.mig import MigInstance

UnitKey = int | tuple[int, int | None, int | None]
"""A whole GPU's index, or (GPU index, GI ID, CI ID) of a MIG instance."""


class UnitState(Enum):
    """What one GPU unit is now."""

    BUSY = "busy"
    """A process runs on it, or it is over the utilisation or memory limit."""
    FREE = "free"
    """Nothing on it, and every figure that decides it is known and under the limits."""
    UNKNOWN = "unknown"
    """Cannot tell (figures unknown, an error, or a process whose instance is unknown)."""


@dataclass(frozen=True, slots=True)
class GpuUnit:
    """What one can hand to a job: a whole GPU, or one MIG instance of it."""

    gpu: Gpu
    """The physical GPU."""
    instance: MigInstance | None = None
    """The MIG instance (None: the whole GPU)."""

    @property
    def key(self) -> UnitKey:
        """Index of a whole GPU; (index, GI, CI) of an instance."""
        if self.instance is None:
            return self.gpu.index
        return (self.gpu.index, self.instance.gpu_instance_id, self.instance.compute_instance_id)

    @property
    def uuid(self) -> str:
        """The GPU's UUID, or the instance's MIG UUID (GPU UUID/GI/CI when that is unknown)."""
        if self.instance is None:
            return self.gpu.uuid
        ids = f"{self.instance.gpu_instance_id}/{self.instance.compute_instance_id}"
        return self.instance.uuid or f"{self.gpu.uuid}/{ids}"

    @property
    def util_percent(self) -> float | None:
        """Utilisation of the unit (an instance's: usually unknown, nvidia-smi has none)."""
        return self.gpu.util_percent if self.instance is None else self.instance.util_percent

    @property
    def memory_used(self) -> int | None:
        """Bytes in use on the unit."""
        return self.gpu.memory_used if self.instance is None else self.instance.memory_used

    @property
    def memory_total(self) -> int | None:
        """Bytes of memory of the unit."""
        return self.gpu.memory_total if self.instance is None else self.instance.memory_total

    @property
    def error(self) -> str | None:
        """Why the unit cannot be judged."""
        if self.gpu.error:
            return self.gpu.error
        return None if self.instance is None else self.instance.error


def units_of(gpu: Gpu) -> tuple[GpuUnit, ...]:
    """A GPU's instances when it has MIG instances, else the GPU itself."""
    if gpu.mig_instances:
        return tuple(GpuUnit(gpu, instance) for instance in gpu.mig_instances)
    return (GpuUnit(gpu),)


def host_units(snap: HostSnapshot) -> list[GpuUnit]:
    """Every unit of a host, GPUs in list order, instances in device order."""
    return [unit for gpu in snap.gpus for unit in units_of(gpu)]


def has_mig(gpus: Iterable[Gpu]) -> bool:
    """True when any GPU shows MIG instances."""
    for gpu in gpus:  # noqa: SIM110 - twice as fast as any() of a generator; runs per host
        if gpu.mig_instances:
            return True
    return False


def _on_gpu(proc: GpuProcess, gpu: Gpu) -> bool:
    return proc.gpu_uuid == gpu.uuid if proc.gpu_uuid else proc.gpu_index == gpu.index


def gpu_of(proc: GpuProcess, gpus: Sequence[Gpu]) -> Gpu | None:
    """The GPU a process runs on (by UUID, else by index)."""
    return next((gpu for gpu in gpus if _on_gpu(proc, gpu)), None)


def instance_of(proc: GpuProcess, gpu: Gpu) -> MigInstance | None:
    """The instance of `gpu` the process runs in; None when whole GPU or not attributable."""
    return next((i for i in gpu.mig_instances if i.runs(proc.mig)), None)


def unit_key_of(proc: GpuProcess, gpus: Sequence[Gpu]) -> UnitKey:
    """The unit a process runs on: its instance when attributable, else its GPU's index."""
    gpu = gpu_of(proc, gpus)
    if gpu is None:
        return proc.gpu_index
    instance = instance_of(proc, gpu)
    return proc.gpu_index if instance is None else GpuUnit(gpu, instance).key


def unit_state(
    unit: GpuUnit,
    on_gpu: Sequence[GpuProcess],
    *,
    memory_mib: float,
    util_percent: float,
) -> UnitState:
    """Busy, free or unknown; `on_gpu` are the processes on the unit's GPU (see processes_by_gpu).

    A whole GPU is judged by whole_gpu_states. An instance is busy by the same rule, with the
    processes in it; it is free with its memory known and low, no process in it, and no process
    on its GPU whose instance is unknown; its utilisation counts only when known (nvidia-smi
    and NVML report none per instance), so a process or memory is what makes it busy.
    """
    instance = unit.instance
    reading: _Reading
    if instance is None:
        reading, taken = unit.gpu, bool(on_gpu)
    else:
        reading, taken = instance, any(instance.runs(proc.mig) for proc in on_gpu)
    [state] = whole_gpu_states(
        (reading,), (0,) if taken else (), memory_mib=memory_mib, util_percent=util_percent
    )
    if instance is None or state is _BUSY:
        return state
    unattributed = any(instance_of(proc, unit.gpu) is None for proc in on_gpu)
    if unit.error is None and instance.memory_used is not None and not unattributed:
        return UnitState.FREE
    return UnitState.UNKNOWN


class _Reading(Protocol):
    """What whole_gpu_states reads of a GPU (or, for its busy rule, of a MIG instance)."""

    @property
    def util_percent(self) -> float | None: ...
    @property
    def memory_used(self) -> int | None: ...
    @property
    def error(self) -> str | None: ...


def whole_gpu_states(
    gpus: Sequence[_Reading], taken: Container[int], *, memory_mib: float, util_percent: float
) -> list[UnitState]:
    """Each GPU's state as a whole (its MIG instances aside); `taken`: the positions in `gpus`
    that a process runs on. Busy with a process, or over the utilisation or memory limit (an
    unknown or NaN figure is not over); free with both figures known and no error; else
    unknown. One pass and no object per GPU: the grid's summary judges every GPU of a fleet's
    reading (40,000 at 5,000 hosts)."""
    memory_limit = memory_mib * MIB
    states = []
    for position, gpu in enumerate(gpus):
        util, used = gpu.util_percent, gpu.memory_used
        if position in taken or (util or 0.0) > util_percent or (used or 0) > memory_limit:
            states.append(_BUSY)
        elif util is not None and used is not None and not gpu.error:
            states.append(_FREE)
        else:
            states.append(_UNKNOWN)
    return states


_BUSY, _FREE, _UNKNOWN = UnitState.BUSY, UnitState.FREE, UnitState.UNKNOWN
"""The states, read once (an Enum member is slow to look up, and this runs per GPU)."""


def free_whole_gpus(snap: HostSnapshot, *, memory_mib: float, util_percent: float) -> int | None:
    """How many of a host's GPUs are free, when none has MIG instances (None: some has); what
    host_unit_states says, without a unit per GPU."""
    if has_mig(snap.gpus):
        return None
    taken = processes_by_gpu(snap) if snap.gpu_processes else {}
    states = whole_gpu_states(snap.gpus, taken, memory_mib=memory_mib, util_percent=util_percent)
    return states.count(_FREE)


def processes_by_gpu(snap: HostSnapshot) -> dict[int, list[GpuProcess]]:
    """Position in snap.gpus -> the processes on that GPU (matched by UUID, else by index); one
    pass. Positions, not indices: a host with NVIDIA and AMD GPUs has two GPUs 0."""
    position_of = {gpu.uuid: pos for pos, gpu in enumerate(snap.gpus) if gpu.uuid}
    first_of: dict[int, int] = {}
    for at, gpu in enumerate(snap.gpus):
        first_of.setdefault(gpu.index, at)  # as gpu_of: the first GPU with the index
    grouped: dict[int, list[GpuProcess]] = {}
    for proc in snap.gpu_processes:
        # A process naming a UUID no GPU has is on none of them (the GPU list moved on).
        pos = position_of.get(proc.gpu_uuid) if proc.gpu_uuid else first_of.get(proc.gpu_index)
        if pos is not None:
            grouped.setdefault(pos, []).append(proc)
    return grouped


def host_unit_states(
    snap: HostSnapshot, *, memory_mib: float, util_percent: float
) -> list[tuple[GpuUnit, UnitState]]:
    """Every unit of a host with its state."""
    grouped = processes_by_gpu(snap)
    if not has_mig(snap.gpus):  # whole GPUs only: judged in one pass
        states = whole_gpu_states(
            snap.gpus, grouped, memory_mib=memory_mib, util_percent=util_percent
        )
        return [(GpuUnit(gpu), state) for gpu, state in zip(snap.gpus, states, strict=True)]
    return [
        (
            unit,
            unit_state(
                unit, grouped.get(pos, ()), memory_mib=memory_mib, util_percent=util_percent
            ),
        )
        for pos, gpu in enumerate(snap.gpus)
        for unit in units_of(gpu)
    ]
