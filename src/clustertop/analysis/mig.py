"""GPU units: a whole GPU, or each MIG instance of a partitioned one; which are busy or free."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

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
    return any(gpu.mig_instances for gpu in gpus)


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

    A whole GPU is free only with its utilisation and memory known and low and no process.
    An instance is free with its memory known and low, no process in it, and no process on
    its GPU whose instance is unknown; its utilisation counts only when known (nvidia-smi and
    NVML report none per instance), so a process or memory is what makes it busy.
    """
    util, used = unit.util_percent, unit.memory_used
    if unit.instance is None:
        mine, unattributed = bool(on_gpu), False
    else:
        mine = any(unit.instance.runs(proc.mig) for proc in on_gpu)
        unattributed = any(instance_of(proc, unit.gpu) is None for proc in on_gpu)
    if mine or (util or 0.0) > util_percent or (used or 0) > memory_mib * MIB:
        return UnitState.BUSY
    util_ok = util is not None or unit.instance is not None
    if unit.error is None and used is not None and util_ok and not unattributed:
        return UnitState.FREE
    return UnitState.UNKNOWN


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
