"""What one snapshot adds to the store: its host row, one row per GPU and holder, and events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from clustertop.analysis.mig import instance_of
from clustertop.model import MIB, Gpu, HostSnapshot, HostState, Section
from clustertop.model.mig import MigInstance
from clustertop.model.network import disk_totals, off_host_rates

STATES = tuple(HostState)
"""Host states by their code in the store (the index)."""
UP_CODE = STATES.index(HostState.UP)
"""The code of an up host."""
CONNECTING_CODE = STATES.index(HostState.CONNECTING)
"""The code of a host not answered yet (counts neither up nor down)."""
FLAG_NONE, FLAG_BUSY, FLAG_IDLE = 0, 1, 2
"""A GPU row's verdict: held or unheld without one, busy, or held idle."""
UNKNOWN_OWNER = "(unknown)"
"""Owner of a GPU process nobody could be named for."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a GPU counts as busy and a holder as holding it idle (judged when recorded)."""

    util_percent: float = 5.0
    """At or under: idle (stale_util_percent)."""
    memory_mib: int = 1
    """An idle GPU is held idle by a holder of at least this much memory (idle_held_memory_mib)."""


@dataclass(frozen=True, slots=True)
class HostRow:
    """The host's columns of one reading."""

    state: int
    """Index in STATES."""
    cpu: float | None
    """CPU busy percent."""
    mem: int | None
    """Memory used, MiB."""
    gutil: float | None
    """Mean utilisation of its GPUs with a known one."""
    gknown: int
    """GPUs with a known utilisation."""


@dataclass(frozen=True, slots=True)
class GpuRow:
    """One GPU and one holder of it (owner "" and container "": nobody) in one reading."""

    index: int
    """nvidia-smi index."""
    uuid: str
    """GPU UUID ("" when unknown)."""
    owner: str
    """Who holds it ("" for an unheld GPU)."""
    container: str
    """The holder's container name ("" when none)."""
    util: float | None
    """The GPU's utilisation."""
    mem: int
    """MiB this holder holds on it (the GPU's total use for an unheld GPU)."""
    flag: int
    """FLAG_BUSY, FLAG_IDLE (held idle) or FLAG_NONE."""


def host_row(snap: HostSnapshot) -> HostRow:
    """The host's state, CPU, memory and mean GPU use."""
    known = [g.util_percent for g in snap.gpus if g.util_percent is not None and not g.error]
    return HostRow(
        state=STATES.index(snap.state),
        cpu=snap.cpu.percent if snap.cpu is not None else None,
        mem=snap.memory.used // MIB if snap.memory is not None else None,
        gutil=sum(known) / len(known) if known else None,
        gknown=len(known),
    )


def in_instances(snap: HostSnapshot) -> dict[int, tuple[Gpu, MigInstance]]:
    """id() of each GPU process attributed to a MIG instance -> its GPU and instance (these
    are kept per instance, see store.mig_rows); one pass, as analysis.mig.gpu_of matches."""
    by_uuid: dict[str, Gpu] = {}
    by_index: dict[int, Gpu] = {}
    for gpu in snap.gpus:
        by_index.setdefault(gpu.index, gpu)
        if gpu.uuid:
            by_uuid.setdefault(gpu.uuid, gpu)
    found: dict[int, tuple[Gpu, MigInstance]] = {}
    for proc in snap.gpu_processes:
        on = by_uuid.get(proc.gpu_uuid) if proc.gpu_uuid else by_index.get(proc.gpu_index)
        instance = instance_of(proc, on) if on is not None and on.mig_instances else None
        if on is not None and instance is not None:
            found[id(proc)] = (on, instance)
    return found


def gpu_rows(
    snap: HostSnapshot,
    limits: Thresholds,
    placed: dict[int, tuple[Gpu, MigInstance]] | None = None,
) -> Iterator[GpuRow]:
    """One row per (GPU, holder) of an up snapshot with a fresh GPU reading; unheld GPUs too."""
    if not snap.is_up or Section.GPU in snap.stale:
        return
    if placed is None:
        placed = in_instances(snap) if any(gpu.mig_instances for gpu in snap.gpus) else {}
    held = _holdings(snap, placed)
    for pos, gpu in enumerate(snap.gpus):
        util = None if gpu.error else gpu.util_percent
        holders = [(k, v) for k, v in held.items() if k[0] == pos]
        if not holders:
            used = (gpu.memory_used or 0) // MIB
            yield GpuRow(gpu.index, gpu.uuid, "", "", util, used, verdict(util, None, limits))
            continue
        for (_, owner, name), used in holders:
            mib = used // MIB
            yield GpuRow(gpu.index, gpu.uuid, owner, name, util, mib, verdict(util, mib, limits))


def _holdings(
    snap: HostSnapshot, placed: dict[int, tuple[Gpu, MigInstance]]
) -> dict[tuple[int, str, str], int]:
    """(position in snap.gpus, owner, container name) -> bytes its processes hold there; a
    process `placed` in a MIG instance is kept per instance (store.mig_rows) instead.

    A process is placed by its GPU's UUID, else by index: on a host with NVIDIA and AMD GPUs
    both have a GPU 0, and an AMD GPU's UUID is its PCI bus ID (model/amd.py).
    """
    position_of = {gpu.uuid: pos for pos, gpu in enumerate(snap.gpus) if gpu.uuid}
    first_of: dict[int, int] = {}
    for at, gpu in enumerate(snap.gpus):
        first_of.setdefault(gpu.index, at)
    held: dict[tuple[int, str, str], int] = {}
    for proc in snap.gpu_processes:
        pos = position_of.get(proc.gpu_uuid, first_of.get(proc.gpu_index))
        if pos is None or id(proc) in placed:
            continue  # on no GPU of this reading, or held per instance
        owner = proc.owner or proc.user or UNKNOWN_OWNER
        name = proc.container.name if proc.container is not None else ""
        key = (pos, owner, name)
        held[key] = held.get(key, 0) + (proc.memory_used or 0)
    return held


def verdict(util: float | None, held_mib: int | None, limits: Thresholds) -> int:
    """Busy, held idle or neither, from utilisation and the MiB held (None: not held)."""
    if util is None:
        return FLAG_NONE
    if util > limits.util_percent:
        return FLAG_BUSY if held_mib is not None else FLAG_NONE
    if held_mib is not None and held_mib >= limits.memory_mib:
        return FLAG_IDLE
    return FLAG_NONE


def container_states(snap: HostSnapshot) -> dict[str, tuple[str, str]]:
    """Container ID -> (name, state) of a snapshot whose containers were read."""
    if not snap.is_up or snap.docker_error is not None or Section.DOCKER in snap.stale:
        return {}
    return {ctr.id: (ctr.name, ctr.state) for ctr in snap.containers}


def disk_rows(snap: HostSnapshot) -> list[tuple[str, int, int]]:
    """(mount, used MiB, total MiB) of each disk of an up snapshot."""
    if not snap.is_up:
        return []
    return [(d.mount, d.used // MIB, d.total // MIB) for d in snap.disks]


def io_row(snap: HostSnapshot) -> tuple[float | None, ...] | None:
    """(receive, send, read, write) bytes per second of an up snapshot; None when it has
    none of them (no rates yet, or network and disk I/O not read)."""
    if not snap.is_up or not (snap.interfaces or snap.disk_io):
        return None
    rx, tx = off_host_rates(snap.interfaces)
    read, write, _ = disk_totals(snap.disk_io)
    rates = (rx, tx, read, write)
    return rates if any(value is not None for value in rates) else None
