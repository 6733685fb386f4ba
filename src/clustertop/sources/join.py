"""Joins the local sections: container names and owners on processes, GPUs on containers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from clustertop.model import Container, ContainerRef, Gpu, GpuProcess, Process
from clustertop.model.attribution import DOCKER, NONE, Attribution
from clustertop.model.engines import container_id_of
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.sources.attribute import attribute, container_ref

GpuRequest = tuple[str, ...] | Literal["all"]
"""GPUs a container asked for: "all", or indices / UUIDs as given (see requested_gpus)."""

Identity = tuple[int, float]
"""(pid, create_time): a process, never confused with a later one that reuses the PID."""


def _named(ref: ContainerRef | None, by_id: Mapping[str, Container]) -> ContainerRef | None:
    if ref is None or ref.id not in by_id:
        return ref
    return ContainerRef(ref.id, by_id[ref.id].name)


def _process_named(proc: Process, by_id: Mapping[str, Container], rule: OwnerRule) -> Process:
    found = attribute(proc.attribution, proc.user, by_id, rule)
    ref = _named(proc.container, by_id) or container_ref(found, by_id)
    if ref is proc.container and found is proc.attribution:
        return proc
    return dataclasses.replace(proc, container=ref, attribution=found)


def name_process_containers(
    processes: Iterable[Process], containers: Sequence[Container], rule: OwnerRule = DEFAULT_RULE
) -> tuple[Process, ...]:
    """Processes with the names of the containers they run in, and their attribution."""
    by_id = {c.id: c for c in containers}
    return tuple(_process_named(p, by_id, rule) for p in processes)


def resolve_gpu_processes(
    processes: Iterable[GpuProcess],
    containers: Sequence[Container],
    cpu_percent: Mapping[Identity, float],
    rule: OwnerRule = DEFAULT_RULE,
) -> tuple[GpuProcess, ...]:
    """GPU processes with container names, owners and CPU use."""
    by_id = {c.id: c for c in containers}
    rows = []
    for proc in processes:
        base = proc.attribution
        if base is None and proc.container is not None:
            # No cgroup classification (demo, older probe): the container ref is Docker's.
            base = Attribution(DOCKER, proc.container.id)
        found = attribute(base or Attribution(NONE, ""), proc.user, by_id, rule)
        cpu = cpu_percent.get((proc.pid, proc.start_time)) if proc.start_time else None
        rows.append(
            dataclasses.replace(
                proc,
                container=_named(proc.container, by_id) or container_ref(found, by_id),
                owner=found.owner if found else None,
                cpu_percent=cpu,
                attribution=found if proc.attribution is not None else proc.attribution,
            )
        )
    return tuple(rows)


def requested_indices(request: GpuRequest, gpus: Sequence[Gpu]) -> set[int]:
    """GPU indices a request names, resolved against the GPUs present."""
    if request == "all":
        return {gpu.index for gpu in gpus}
    return {gpu.index for gpu in gpus if str(gpu.index) in request or gpu.uuid in request}


def attach_gpus(
    containers: Iterable[Container],
    requests: Mapping[str, GpuRequest],
    gpus: Sequence[Gpu],
    gpu_processes: Sequence[GpuProcess],
) -> tuple[Container, ...]:
    """Containers with the GPUs they requested or use, and the GPU memory their processes hold."""
    result = []
    for container in containers:
        indices = (
            requested_indices(requests[container.id], gpus) if container.id in requests else set()
        )
        mine = [p for p in gpu_processes if container_id_of(p) == container.id]
        indices.update(p.gpu_index for p in mine)
        held = [p.memory_used for p in mine if p.memory_used is not None]
        if not indices and not held:
            result.append(container)
            continue
        result.append(
            dataclasses.replace(
                container,
                gpus=tuple(sorted(indices)),
                gpu_memory_used=sum(held) if held else container.gpu_memory_used,
            )
        )
    return tuple(result)
