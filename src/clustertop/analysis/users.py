"""Per-person usage across the cluster, and a host snapshot narrowed to one person."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from clustertop.analysis.jobs import slurm_jobs
from clustertop.analysis.mig import GpuUnit, instance_of
from clustertop.analysis.stale_pods import pod_holds
from clustertop.model import HostSnapshot
from clustertop.model.amd import container_gpu_map, mixed_vendors
from clustertop.model.attribution import POD, PODMAN, SLURM

UNKNOWN_OWNER = "(unknown)"
"""Owner shown for GPU processes and containers no rule attributes to anyone."""


@dataclass(frozen=True, slots=True)
class UserRow:
    """What one person holds across all up hosts."""

    owner: str
    """Person (UNKNOWN_OWNER when no rule names one)."""
    gpus: int
    """Distinct (host, GPU) pairs with one of their GPU processes or running containers; on a
    MIG GPU each instance with one of their processes counts as one."""
    gpu_memory: int
    """Bytes of GPU memory their GPU processes hold."""
    mean_util: float | None
    """Mean utilisation of those GPUs (None when none is known)."""
    containers_running: int
    """Their running containers."""
    containers_stale: int
    """Their stale containers."""
    processes: int
    """Their GPU processes."""
    hosts: tuple[str, ...]
    """Hosts where they hold a GPU process or a running container, sorted."""
    jobs: int = 0
    """Distinct Slurm jobs, pods and podman containers their GPU processes run in."""
    jobs_stale: int = 0
    """Their Slurm jobs holding GPUs idle for the stale period (JobStaleTracker)."""
    pods_stale: int = 0
    """Their Kubernetes pods (not run by Docker) holding idle GPUs (PodStaleTracker)."""


@dataclass(slots=True)
class _Tally:
    gpus: dict[tuple[str, str], float | None] = field(default_factory=dict)
    gpu_memory: int = 0
    running: int = 0
    stale: int = 0
    processes: int = 0
    hosts: set[str] = field(default_factory=set)
    jobs: set[tuple[str, str, str]] = field(default_factory=set)
    jobs_stale: int = 0
    pods_stale: int = 0


def owner_name(owner: str | None) -> str:
    """The owner as shown: None becomes UNKNOWN_OWNER."""
    return owner if owner else UNKNOWN_OWNER


def _tally_of(tallies: dict[str, _Tally], owner: str | None) -> _Tally:
    name = owner_name(owner)
    tally = tallies.get(name)
    if tally is None:
        tally = tallies[name] = _Tally()
    return tally


def _own_indices(snap: HostSnapshot) -> dict[str, set[int]]:
    """Container ID -> GPU indices of its processes, on a host mixing vendors only.

    There those processes are counted by UUID: the same number in the container's GPU list
    may name the other vendor's GPU.
    """
    own: dict[str, set[int]] = {}
    if mixed_vendors(snap.gpus):
        for proc in snap.gpu_processes:
            if proc.container is not None:
                own.setdefault(proc.container.id, set()).add(proc.gpu_index)
    return own


def _tally_host(snap: HostSnapshot, stale: frozenset[str], tallies: dict[str, _Tally]) -> None:
    by_index = {gpu.index: gpu for gpu in snap.gpus}
    by_uuid = {gpu.uuid: gpu for gpu in snap.gpus if gpu.uuid}
    requested = container_gpu_map(snap.gpus)
    own = _own_indices(snap)
    in_instances: set[tuple[str, int]] = set()  # (container, GPU) counted by its instances
    for proc in snap.gpu_processes:
        tally = _tally_of(tallies, proc.owner)
        gpu = by_uuid.get(proc.gpu_uuid) or by_index.get(proc.gpu_index)
        instance = instance_of(proc, gpu) if gpu is not None else None
        if gpu is not None and instance is not None:
            unit = GpuUnit(gpu, instance)  # a MIG instance: its own util, its own count
            tally.gpus[(snap.name, unit.uuid)] = unit.util_percent
            if proc.container is not None:
                in_instances.add((proc.container.id, gpu.index))
        else:
            uuid = gpu.uuid if gpu is not None and gpu.uuid else proc.gpu_uuid
            tally.gpus[(snap.name, uuid)] = gpu.util_percent if gpu is not None else None
        tally.gpu_memory += proc.memory_used or 0
        tally.processes += 1
        tally.hosts.add(snap.name)
        found = proc.attribution
        if found is not None and found.kind in (SLURM, POD, PODMAN):
            tally.jobs.add((snap.name, found.kind, found.id))
    for ctr in snap.containers:
        if ctr.state != "running":
            continue
        tally = _tally_of(tallies, ctr.owner)
        tally.running += 1
        tally.stale += ctr.id in stale
        tally.hosts.add(snap.name)
        for index, ref in ctr.mig:  # instances named without processes (dcgm-exporter)
            gpu = by_index.get(index)
            instance = next((i for i in gpu.mig_instances if i.runs(ref)), None) if gpu else None
            if gpu is not None and instance is not None:
                tally.gpus[(snap.name, GpuUnit(gpu, instance).uuid)] = instance.util_percent
                in_instances.add((ctr.id, index))
        for index in ctr.gpus:
            if (ctr.id, index) in in_instances:
                continue  # its MIG instances are what it holds, not the whole GPU
            gpu = None if index in own.get(ctr.id, ()) else requested.get(index)
            if gpu is not None and gpu.uuid:  # a GPU not in the list cannot be named
                tally.gpus[(snap.name, gpu.uuid)] = gpu.util_percent


def _row(owner: str, tally: _Tally) -> UserRow:
    known = [util for util in tally.gpus.values() if util is not None]
    return UserRow(
        owner=owner,
        gpus=len(tally.gpus),
        gpu_memory=tally.gpu_memory,
        mean_util=sum(known) / len(known) if known else None,
        containers_running=tally.running,
        containers_stale=tally.stale,
        processes=tally.processes,
        hosts=tuple(sorted(tally.hosts)),
        jobs=len(tally.jobs),
        jobs_stale=tally.jobs_stale,
        pods_stale=tally.pods_stale,
    )


def _tally_stale_jobs(
    snap: HostSnapshot, stale: frozenset[str], tallies: dict[str, _Tally]
) -> None:
    for job in slurm_jobs(snap):
        if job.id in stale:
            _tally_of(tallies, job.user).jobs_stale += 1


def _tally_stale_pods(
    snap: HostSnapshot, stale: frozenset[str], tallies: dict[str, _Tally]
) -> None:
    for pod in pod_holds(snap):
        if pod.id in stale:
            _tally_of(tallies, pod.owner).pods_stale += 1


def user_rows(
    snapshots: Iterable[HostSnapshot],
    stale: Mapping[str, frozenset[str]],
    stale_jobs: Mapping[str, frozenset[str]] | None = None,
    stale_pods: Mapping[str, frozenset[str]] | None = None,
) -> list[UserRow]:
    """One row per person with a GPU process or running container on an up host.

    `stale` maps host name -> stale container IDs, `stale_jobs` -> stale Slurm job ids,
    `stale_pods` -> stale pod ids (pods run by Docker are never among them).
    Sorted by GPUs held (most first), then GPU memory (most first), then name.
    """
    tallies: dict[str, _Tally] = {}
    for snap in snapshots:
        if snap.is_up:
            _tally_host(snap, stale.get(snap.name, frozenset()), tallies)
            _tally_stale_jobs(snap, (stale_jobs or {}).get(snap.name, frozenset()), tallies)
            _tally_stale_pods(snap, (stale_pods or {}).get(snap.name, frozenset()), tallies)
    rows = [_row(owner, tally) for owner, tally in tallies.items()]
    rows.sort(key=lambda row: (-row.gpus, -row.gpu_memory, row.owner))
    return rows


def owner_filter(snap: HostSnapshot, owner: str) -> HostSnapshot:
    """The snapshot with only `owner`'s GPU processes, containers and processes.

    Processes kept: those in the owner's containers, those whose Unix user is the owner, and
    those whose attribution (Slurm job, pod, podman container) names the owner.
    GPUs, disks and host figures stay as they are. UNKNOWN_OWNER selects what has no owner.
    """
    containers = tuple(c for c in snap.containers if owner_name(c.owner) == owner)
    mine = {c.id for c in containers}
    return dataclasses.replace(
        snap,
        gpu_processes=tuple(p for p in snap.gpu_processes if owner_name(p.owner) == owner),
        containers=containers,
        processes=tuple(
            p
            for p in snap.processes
            if (p.container is not None and p.container.id in mine)
            or owner_name(p.user) == owner
            or (p.attribution is not None and owner_name(p.attribution.owner) == owner)
        ),
    )


def owner_has_something(snap: HostSnapshot, owner: str) -> bool:
    """True when `owner` has a GPU process, a container or a process on the host."""
    mine = owner_filter(snap, owner)
    return bool(mine.gpu_processes or mine.containers or mine.processes)


def owner_view(snapshots: Iterable[HostSnapshot], owner: str) -> list[HostSnapshot]:
    """What the grid shows when filtered to `owner`: the hosts where the owner has something,
    each with only the owner's GPU processes, containers and processes."""
    return [owner_filter(snap, owner) for snap in snapshots if owner_has_something(snap, owner)]


def users_json(rows: Iterable[UserRow]) -> list[dict[str, Any]]:
    """Plain dicts for `--json`."""
    return [
        {
            "owner": row.owner,
            "gpus": row.gpus,
            "gpu_memory": row.gpu_memory,
            "mean_util": row.mean_util,
            "containers_running": row.containers_running,
            "containers_stale": row.containers_stale,
            "processes": row.processes,
            "hosts": list(row.hosts),
            "jobs": row.jobs,
            "jobs_stale": row.jobs_stale,
            "pods_stale": row.pods_stale,
        }
        for row in rows
    ]
