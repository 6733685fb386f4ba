"""The local source: `clustertop` with no arguments monitors the machine it runs on."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from clustertop.model import (
    Container,
    GpuProcess,
    HostSnapshot,
    HostState,
    Process,
    Section,
    by_cpu_then_memory,
)
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.model.slurm import SlurmState
from clustertop.sources.attribute import attribute_ports
from clustertop.sources.base import Runner, RunnerFactory, SnapshotSink, Source
from clustertop.sources.join import (
    attach_gpus,
    name_process_containers,
    resolve_gpu_processes,
)
from clustertop.sources.local.amd import AmdReader, both_vendors
from clustertop.sources.local.containers import ContainersReader
from clustertop.sources.local.disks import DiskReader, DiskReading
from clustertop.sources.local.docker import DockerReader, DockerReading
from clustertop.sources.local.gpu import GpuReader, GpuReading
from clustertop.sources.local.netio import (
    DiskIoReader,
    DiskIoReading,
    NetworkReader,
    NetworkReading,
)
from clustertop.sources.local.podman import PodmanCatalog, podman_ids
from clustertop.sources.local.ports import PortReader, PortReading
from clustertop.sources.local.processes import ProcessReading, ProcessTable
from clustertop.sources.local.sections import SectionRunner
from clustertop.sources.local.slurm import (
    SlurmCatalog,
    jobs_wanted,
    node_jobs,
    runs_slurmd,
    with_job,
)
from clustertop.sources.local.system import SystemReading, SystemSampler, read_memory

_Attributed = TypeVar("_Attributed", Process, GpuProcess)

FIRST_GAP_S = 0.5
"""Seconds between the first reading (CPU baseline) and the second, the first with CPU use."""

SECTION_WAIT_S = 1.5
"""Seconds a tick waits for its sections; a slower one is shown stale and not started again."""


class LocalSource(Source):
    """Snapshots of this machine from psutil, NVML and the docker SDK, one per interval."""

    def __init__(
        self,
        interval: float = 2.0,
        *,
        name: str = "localhost",
        owner_rule: OwnerRule = DEFAULT_RULE,
        docker_host: str | None = None,
    ) -> None:
        self.interval = interval
        """Seconds between snapshots."""
        self.name = name
        """The host name snapshots carry."""
        self._owner_rule = owner_rule
        self._system = SectionRunner(Section.SYSTEM, SystemSampler().read)
        self._table = ProcessTable()
        self._processes = SectionRunner(Section.PROCESSES, self._read_processes)
        self._gpu_reader = GpuReader()
        self._amd_reader = AmdReader()
        self._gpu = SectionRunner(Section.GPU, self._read_gpu)
        self._podman = PodmanCatalog(owner_rule=owner_rule)
        self._slurm = SlurmCatalog()
        self._slurmd = runs_slurmd()
        self._docker_reader = DockerReader(docker_host, owner_rule)
        containers = ContainersReader(self._docker_reader, self._podman)
        self._docker = SectionRunner(Section.DOCKER, containers.read)
        self._disks = SectionRunner(Section.DISKS, DiskReader().read)
        # Container traffic and ports need their PIDs: the docker section's latest reading.
        network = NetworkReader(containers=self._known_containers)
        self._network = SectionRunner(Section.NETWORK, network.read)
        self._disk_io = SectionRunner(Section.DISK_IO, DiskIoReader().read)
        self._ports = SectionRunner(Section.PORTS, PortReader(self._known_containers).read)
        self._runners: tuple[SectionRunner[Any], ...] = (
            self._system,
            self._processes,
            self._gpu,
            self._docker,
            self._disks,
            self._network,
            self._disk_io,
            self._ports,
        )
        self._memory_total: int | None = None
        self._since = time.time()

    @property
    def host_names(self) -> Sequence[str]:
        """The one local host."""
        return (self.name,)

    async def run(self, sink: SnapshotSink) -> None:
        """A first snapshot at once (no CPU use yet), one FIRST_GAP_S later, then one a tick."""
        self._since = time.time()
        sink(await self.snapshot())
        await asyncio.sleep(FIRST_GAP_S)
        while True:
            started = time.monotonic()
            sink(await self.snapshot())
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def aclose(self) -> None:
        """Release the Docker connection and NVML."""
        await asyncio.to_thread(self._docker_reader.close)
        await asyncio.to_thread(self._gpu_reader.close)
        await asyncio.to_thread(self._amd_reader.close)

    def action_runner(self, factory: RunnerFactory[Runner]) -> Runner:
        """Actions run here, on this machine."""
        return factory.local()

    async def snapshot(self) -> HostSnapshot:
        """Collect every section (each in its own thread, bounded in time) into one snapshot."""
        started = time.time()
        await asyncio.wait([runner.start() for runner in self._runners], timeout=SECTION_WAIT_S)
        for runner in self._runners:
            runner.harvest()
        return self._compose(started, time.time())

    def _known_containers(self) -> tuple[Container, ...]:
        return (self._docker.latest or DockerReading()).containers

    def _read_processes(self) -> ProcessReading:
        if self._memory_total is None:
            try:
                self._memory_total = read_memory().total
            except (OSError, RuntimeError):
                self._memory_total = None
        reading = self._table.read(self._memory_total)
        self._podman.want(podman_ids(p.attribution for p in reading.processes))
        node = node_jobs() if self._slurmd else set()
        self._slurm.want(jobs_wanted(p.attribution for p in reading.processes) | node)
        return reading

    def _read_gpu(self) -> GpuReading:
        reading = both_vendors(self._gpu_reader.read(), self._amd_reader.read())
        self._podman.want(podman_ids(p.attribution for p in reading.processes))
        self._slurm.want(jobs_wanted(p.attribution for p in reading.processes))
        return reading

    def _with_jobs(self, rows: Sequence[_Attributed]) -> list[_Attributed]:
        """Rows whose Slurm job scontrol described (where their environ was unreadable)."""
        jobs = self._slurm.jobs
        if not jobs:
            return list(rows)
        return [dataclasses.replace(r, attribution=with_job(r.attribution, jobs)) for r in rows]

    def _error(self, runner: SectionRunner[Any], own: str | None) -> str | None:
        """A section's error: a crash, no answer at all yet, or the reading's own error."""
        if runner.failure is not None:
            return runner.failure
        if runner.latest is None and runner.busy_since is not None:
            return f"no answer within {SECTION_WAIT_S:g} s"
        return own

    def _compose(self, started: float, now: float) -> HostSnapshot:
        system = self._system.latest or SystemReading(None, None, None, None, None)
        processes = self._processes.latest or ProcessReading()
        gpu = self._gpu.latest or GpuReading()
        docker = self._docker.latest or DockerReading()
        disks = self._disks.latest or DiskReading()
        # The catalog also holds containers looked up for a process between two lists.
        # Another user's rootless container is named by its conmon's command line: never trusted
        # for an owner (the rootless user is), so it names no process here.
        known = tuple(
            c
            for c in (*self._podman.containers.values(), *docker.containers)
            if c.rootless_user is None
        )
        gpu_processes = resolve_gpu_processes(
            self._with_jobs(gpu.processes), known, processes.cpu_percent, self._owner_rule
        )
        named = by_cpu_then_memory(
            name_process_containers(self._with_jobs(processes.processes), known, self._owner_rule)
        )
        stale = {
            r.section: now - r.latest_time
            for r in self._runners
            if r.latest_time is not None and r.latest_time < started
        }
        times = [r.latest_time for r in self._runners if r.latest_time is not None]
        return HostSnapshot(
            name=self.name,
            state=HostState.UP,
            time=now,
            latency_ms=(now - started) * 1000.0,
            state_since=self._since,
            data_time=max(times) if times else None,
            hostname=system.hostname,
            cpu=system.cpu,
            load=system.load,
            memory=system.memory,
            uptime_s=system.uptime_s,
            system_error=self._error(self._system, system.error),
            gpus=gpu.gpus,
            gpu_processes=gpu_processes,
            gpu_error=self._error(self._gpu, gpu.error),
            containers=attach_gpus(docker.containers, docker.gpu_requests, gpu.gpus, gpu_processes),
            docker_error=self._error(self._docker, docker.error),
            processes=named,
            processes_error=self._error(self._processes, processes.error),
            disks=disks.disks,
            disks_error=self._error(self._disks, disks.error),
            stale=stale,
            podman_error=docker.podman_error,
            **self._netio(known),
            slurm=self._slurm_state(gpu_processes, processes.processes),
        )

    def _slurm_state(
        self, gpu_processes: Sequence[GpuProcess], processes: Sequence[Process]
    ) -> SlurmState | None:
        """The jobs scontrol described among those of the processes (None: no slurmd here)."""
        if not self._slurmd:
            return None
        found = [p.attribution for p in gpu_processes] + [p.attribution for p in processes]
        return self._slurm.state(jobs_wanted(found) | node_jobs())

    def _netio(self, known: Sequence[Container]) -> dict[str, Any]:
        """The network, disk I/O and ports fields of a snapshot."""
        network = self._network.latest or NetworkReading()
        disk_io = self._disk_io.latest or DiskIoReading()
        ports = self._ports.latest or PortReading()
        return {
            "interfaces": network.interfaces,
            "network_error": self._error(self._network, network.error),
            "disk_io": disk_io.devices,
            "disk_io_error": self._error(self._disk_io, disk_io.error),
            "nfs_io": disk_io.nfs,
            "ports": attribute_ports(ports.ports, known, self._owner_rule),
            "ports_error": self._error(self._ports, ports.error),
        }
