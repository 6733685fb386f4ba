"""Small builders of synthetic snapshots for the analysis tests."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

from clustertop.model import (
    MIB,
    Container,
    ContainerRef,
    Cpu,
    Disk,
    Gpu,
    GpuProcess,
    HostSnapshot,
    HostState,
    Memory,
    Process,
    Section,
)

T0 = 1_700_000_000.0
"""A fixed start time."""
GIB = 1024 * MIB
"""Bytes in one GiB."""


def cid(name: str) -> str:
    """A 64-hex container ID derived from a name."""
    return (name.encode().hex() * 64)[:64]


def gpu(
    index: int,
    util: float | None = 0.0,
    mem_mib: int | None = 0,
    *,
    total_mib: int | None = 81920,
    name: str = "NVIDIA A100-SXM4-80GB",
    temp: float | None = 40.0,
    ecc: int | None = 0,
    error: str | None = None,
    uuid: str | None = None,
) -> Gpu:
    """A GPU with utilisation and memory in MiB."""
    return Gpu(
        index=index,
        uuid=f"GPU-{index:08d}-0000-0000-0000-000000000000" if uuid is None else uuid,
        name=name,
        util_percent=util,
        memory_used=None if mem_mib is None else mem_mib * MIB,
        memory_total=None if total_mib is None else total_mib * MIB,
        temperature_c=temp,
        power_w=60.0,
        power_limit_w=400.0,
        ecc_uncorrected=ecc,
        error=error,
    )


def ctr(
    name: str,
    *,
    state: str = "running",
    gpus: tuple[int, ...] = (),
    gpu_mem_mib: int | None = None,
    owner: str | None = None,
    started_at: float | None = T0 - 3600,
    finished_at: float | None = None,
    log_size: int | None = None,
    container_id: str | None = None,
) -> Container:
    """A container; the owner defaults to the name part before '-'."""
    return Container(
        id=cid(name) if container_id is None else container_id,
        name=name,
        image="pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime",
        state=state,
        status="Up" if state == "running" else "Exited (0)",
        gpus=gpus,
        owner=owner if owner is not None else name.split("-", maxsplit=1)[0],
        started_at=started_at,
        finished_at=finished_at,
        log_size=log_size,
        gpu_memory_used=None if gpu_mem_mib is None else gpu_mem_mib * MIB,
    )


def proc(
    pid: int,
    gpu_index: int,
    mem_mib: int | None = 1000,
    *,
    container: Container | None = None,
    owner: str | None = None,
    user: str | None = "root",
) -> GpuProcess:
    """A GPU process, in `container` when given (its owner then defaults to the container's)."""
    return GpuProcess(
        pid=pid,
        gpu_index=gpu_index,
        gpu_uuid=gpu(gpu_index).uuid,
        memory_used=None if mem_mib is None else mem_mib * MIB,
        user=user,
        command="python train.py",
        container=ContainerRef(container.id, container.name) if container else None,
        owner=owner if owner is not None else (container.owner if container else user),
    )


def top_process(pid: int, user: str | None, container: Container | None = None) -> Process:
    """A process of the top-like list."""
    return Process(
        pid=pid,
        user=user,
        cpu_percent=1.0,
        memory_percent=0.1,
        memory_rss=10 * MIB,
        start_time=T0 - 100,
        command="python x.py",
        container=ContainerRef(container.id, container.name) if container else None,
    )


def disk(mount: str, percent: float, *, inodes_percent: float | None = None) -> Disk:
    """A 1 TiB filesystem `percent` full."""
    total = 1024 * GIB
    used = math.ceil(total * percent / 100)  # at least `percent`, never a hair under
    inodes_total = None if inodes_percent is None else 1_000_000
    inodes_used = None if inodes_percent is None else int(10_000 * inodes_percent)
    return Disk(mount, "/dev/sda1", "ext4", total, used, total - used, inodes_total, inodes_used)


def snap(
    name: str = "gpu01",
    time: float = T0,
    *,
    gpus: tuple[Gpu, ...] = (),
    gpu_processes: tuple[GpuProcess, ...] = (),
    containers: tuple[Container, ...] = (),
    processes: tuple[Process, ...] = (),
    disks: tuple[Disk, ...] = (),
    state: HostState = HostState.UP,
    error: str | None = None,
    gpu_error: str | None = None,
    docker_error: str | None = None,
    stale: Mapping[Section, float] = MappingProxyType({}),
    cpu: float | None = 10.0,
    memory_used: int = 8 * GIB,
    state_since: float | None = None,
) -> HostSnapshot:
    """An up host snapshot (or a down one with `state` and `error`)."""
    if state is not HostState.UP:
        return HostSnapshot(name, state, time, error=error, state_since=state_since)
    return HostSnapshot(
        name=name,
        state=state,
        time=time,
        state_since=state_since,
        cpu=Cpu(cpu, cpu, 0.0, count=64),
        memory=Memory(512 * GIB, memory_used),
        gpus=gpus,
        gpu_processes=gpu_processes,
        gpu_error=gpu_error,
        containers=containers,
        docker_error=docker_error,
        processes=processes,
        disks=disks,
        stale=stale,
    )
