"""A host's containers from its docker and procs readings, with the GPUs they use."""

from __future__ import annotations

import dataclasses

from clustertop.model import Container, Gpu, GpuProcess
from clustertop.sources.join import attach_gpus
from clustertop.sources.ssh.sections import DockerReading, ProcsReading


def with_usage(docker: DockerReading | None, procs: ProcsReading | None) -> list[Container]:
    """The reading's containers with the CPU and memory the last full process scan gave them."""
    if docker is None:
        return []
    usage = procs.container_usage if procs else {}
    result = docker.containers
    for index, c in enumerate(result):
        cpu, mem = usage.get(c.id, (None, None)) if c.state == "running" else (None, None)
        # Usage comes with full scans only: most frames keep the same containers. The
        # reading takes each one with its usage in place of the one it had, so a host holds
        # one copy of each container, not the reading's and the snapshot's.
        if c.cpu_percent != cpu or c.memory_used != mem:
            result[index] = dataclasses.replace(c, cpu_percent=cpu, memory_used=mem)
    return list(result)


class ContainerJoin:
    """Containers with their GPUs: the last frame's tuple while its inputs are the same."""

    __slots__ = ("_key", "_value")

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._value: tuple[Container, ...] = ()

    def attach(
        self,
        containers: list[Container],
        docker: DockerReading | None,
        gpus: tuple[Gpu, ...],
        gpu_procs: tuple[GpuProcess, ...],
    ) -> tuple[Container, ...]:
        """`containers` (from `with_usage`) with the GPUs they requested or use."""
        if not containers:
            return ()
        requests = docker.requests if docker else {}
        key = (tuple(containers), requests, gpus, gpu_procs)
        if key != self._key:
            self._value = attach_gpus(containers, requests, gpus, gpu_procs)
        # The current inputs, not equal older ones: kept, these would hold a second copy of
        # the host's GPUs and containers (about 10 KiB a host, 10 MB at 1,000 hosts).
        self._key = key
        return self._value
