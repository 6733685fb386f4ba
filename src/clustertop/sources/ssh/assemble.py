"""Probe frames to host snapshots: keeps each section's last good data and its age."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from clustertop.model import Container, Disk, HostSnapshot, HostState, Process, Section
from clustertop.model.fast import maker
from clustertop.model.network import DiskIo, Interface, ListeningPort
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.parsers.mig_sample import MigReading
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.sources.ssh.container_join import ContainerJoin, with_usage
from clustertop.sources.ssh.container_net import ContainerTraffic
from clustertop.sources.ssh.gpu_join import GpuJoin, gpu_line_errors, start_time
from clustertop.sources.ssh.netio import NetioRates
from clustertop.sources.ssh.port_owners import PortOwners
from clustertop.sources.ssh.ports_memo import PortsMemo
from clustertop.sources.ssh.probe import Frame, SectionOutput, split_parts
from clustertop.sources.ssh.process_list import ProcessList
from clustertop.sources.ssh.procs_state import ProcsState
from clustertop.sources.ssh.reader import READ_LIMIT
from clustertop.sources.ssh.sections import (
    DockerReading,
    GpuReading,
    ProcsReading,
    SystemReading,
    read_disks,
    read_docker,
    read_gpu,
    read_system,
)
from clustertop.sources.ssh.slot import HostInfo, Slot, SlotState
from clustertop.sources.ssh.slurm import SlurmView

__all__ = ["SECTION_OF", "FrameAssembler", "HostInfo"]

_SNAPSHOT = maker(HostSnapshot)
"""HostSnapshot(...) without one object.__setattr__ per field: one a frame of every host."""

SECTION_OF = {
    "sys": Section.SYSTEM,
    "gpu": Section.GPU,
    "docker": Section.DOCKER,
    "procs": Section.PROCESSES,
    "disks": Section.DISKS,
    "net": Section.NETWORK,
    "dio": Section.DISK_IO,
    "ports": Section.PORTS,
}
"""Probe section name -> model section."""


def digest(text: str) -> bytes:
    """A section output's fingerprint (BLAKE2b, 128 bits): what a host keeps to tell the same
    output again, instead of the output itself."""
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).digest()


@dataclass(slots=True)  # a thousand hosts: no per-instance dict
class FrameAssembler:
    """Turns each frame of one host into a snapshot, remembering what earlier frames said."""

    name: str
    """Host name as the user gave it."""
    marker: str
    """Frame marker of the current probe."""
    info: HostInfo = field(default_factory=HostInfo)
    """From the ready line."""
    rule: OwnerRule = DEFAULT_RULE
    """Owner rule."""
    stale_after: float = 3.0
    """Data older than its refresh period plus this many seconds is reported stale."""
    interval: float = 2.0
    """Seconds between ticks (and between GPU samples)."""
    every: dict[str, int] = field(default_factory=lambda: {"disks": 10, "docker": 30, "ports": 5})
    """Sections refreshed only every so many ticks."""
    first_grace: float = 4.0
    """Seconds a section may take to give its first reading before it counts as timed out."""
    clock: Callable[[], float] = time.time
    """Client clock."""
    _sys: Slot[SystemReading] = field(default_factory=Slot)
    _gpu: Slot[GpuReading] = field(default_factory=Slot)
    _disks: Slot[list[Disk]] = field(default_factory=Slot)
    _docker: Slot[DockerReading] = field(default_factory=Slot)
    _procs: Slot[ProcsReading] = field(default_factory=Slot)
    _net: Slot[tuple[Interface, ...]] = field(default_factory=Slot)
    _dio: Slot[tuple[DiskIo, ...]] = field(default_factory=Slot)
    _ports: Slot[tuple[ListeningPort, ...]] = field(default_factory=Slot)
    _container_net: ContainerTraffic = field(default_factory=ContainerTraffic)
    _port_owners: PortOwners = field(default_factory=PortOwners)
    _ports_memo: PortsMemo = field(default_factory=PortsMemo)
    _rates: NetioRates = field(default_factory=NetioRates)
    _slurm: SlurmView = field(default_factory=SlurmView)
    _mig: MigReading | None = None
    """The last MIG sample: the probe sends one only when it is new."""
    _uptime: float | None = None
    _now: float = 0.0
    _first_frame: float = -1.0
    _held: tuple[float, float] = (0.0, 0.0)
    """Seconds of ticks withheld at cold start (warmup.py), and when the last one was."""
    _procs_state: ProcsState = field(default_factory=ProcsState)
    _process_list: ProcessList = field(init=False)
    _gpu_join: GpuJoin = field(init=False)
    _container_join: ContainerJoin = field(default_factory=ContainerJoin)
    _slots: dict[str, SlotState] = field(default_factory=dict)
    """Every section's slot by probe section name, in SECTION_OF's order."""

    def __post_init__(self) -> None:
        self._process_list = ProcessList(self.info.page_size, self.rule)
        self._gpu_join = GpuJoin(self.info.hz, self.rule)
        self._slots = {
            "sys": self._sys,
            "gpu": self._gpu,
            "docker": self._docker,
            "procs": self._procs,
            "disks": self._disks,
            "net": self._net,
            "dio": self._dio,
            "ports": self._ports,
        }

    def apply(self, frame: Frame, latency_ms: float | None, cut: bool = False) -> HostSnapshot:
        """Fold one frame in and return the host's snapshot; `cut`: only its first part came."""
        now = self._now = self.clock()
        if self._first_frame < 0:
            self._first_frame = now
        self._uptime = frame.uptime if frame.uptime is not None else self._uptime
        for name in SECTION_OF:
            slot = self._slots[name]
            output = frame.sections.get(name)
            if output is not None:
                age = max((frame.uptime or 0.0) - (output.started or frame.uptime or 0.0), 0.0)
                self._read(name, output, now, data_time=now - age)
            elif name in frame.same and frame.uptime is not None:
                slot.data_time = now - max(frame.uptime - frame.same[name], 0.0)
            started = frame.pending.get(name)
            slot.pending_since = (
                None if started is None else now - max((frame.uptime or started) - started, 0)
            )
        self._slurm.take(frame)
        if cut:
            self._cut(frame, now)
        return self._snapshot(now, latency_ms)

    def _cut(self, frame: Frame, now: float) -> None:
        # Over the read limit: the rest of the frame was skipped. A section that filled much of
        # it is the cause and says so until its output fits again (frames between say "same" to
        # it). One that merely came after big ones keeps its last reading, which ages and is
        # shown stale if this goes on: it lost nothing of its own.
        if frame.unfinished is None or frame.unfinished_chars < READ_LIMIT // 4:
            return
        limit = f"{READ_LIMIT // 1024 // 1024} MiB"
        self._slots[frame.unfinished].fail(f"output over {limit}: skipped", now)

    def _read(self, name: str, out: SectionOutput, now: float, data_time: float) -> None:
        if name == "sys":  # its counters change every frame: nothing to keep
            self._sys.read(lambda: read_system(out.body), name, data_time)
            return
        parts = split_parts(out.body, self.marker)
        if name == "gpu":  # the probe says `same` only for sections on their own cadence
            self._read_gpu(parts, (out.body, out.returncode), data_time)
        elif name == "disks":  # unchanged: the probe says `same`
            self._disks.read(lambda: read_disks(parts), name, data_time)
        elif name == "docker":
            host_now = self._host_now(now)
            self._docker.read(
                lambda: read_docker(parts, out.returncode, now=host_now, rule=self.rule),
                name,
                data_time,
            )
            self._container_net.read(parts.get("netdev", ""), self._uptime or 0.0, self._rates.boot)
        elif name == "procs":
            before = self._procs.value
            text = parts.get("", "")
            self._procs.read(lambda: self._procs_state.read(text, before), name, data_time)
        else:
            self._read_netio(name, parts, data_time)

    def _read_netio(self, name: str, parts: dict[str, str], data_time: float) -> None:
        # Rates run on the host's uptime: our clock and the channel's delays stay out of them.
        up = self._uptime or 0.0
        if name == "net":
            self._net.read(lambda: self._rates.interfaces(parts, up), name, data_time)
        elif name == "dio":
            self._dio.read(lambda: self._rates.read_dio(parts, up), name, data_time)
        else:
            self._ports.read(lambda: self._ports_memo.read(parts), name, data_time)

    def _read_gpu(self, parts: dict[str, str], source: tuple[str, int | None], when: float) -> None:
        before = self._gpu.value.amd if self._gpu.value else None
        if before is None:  # NVIDIA's output alone: an equal reading keeps the last one
            read = lambda: read_gpu(parts, source[1], None)  # noqa: E731
            self._gpu.read_same(read, "gpu", when, (digest(source[0]), source[1]))
        else:  # AMD's tool output is carried over from earlier frames
            self._gpu.read(lambda: read_gpu(parts, source[1], before), "gpu", when)
        if self._gpu.value is not None and self._gpu.value.mig is not None:
            self._mig = self._gpu.value.mig

    def _host_now(self, now: float) -> float:
        # Docker's times are in the host's clock: "Up 3 minutes" must not depend on our skew.
        btime = self._procs_state.btime
        if btime is not None and self._uptime is not None:
            return btime + self._uptime
        return now

    def withheld(self, seconds: float) -> None:
        """A tick was withheld (warmup.py): readings from before now may be that much older."""
        self._held = (self._held[0] + seconds, self.clock())

    def _age(self, name: str, slot: SlotState, now: float) -> float | None:
        # Stale means older than its refresh period plus some slack: not merely still running.
        limit = self.every.get(name, 1) * self.interval + self.stale_after
        if slot.data_time is not None and slot.data_time <= self._held[1]:
            limit += self._held[0]  # its refresh is that many withheld ticks later
        if slot.data_time is not None and now - slot.data_time > limit:
            return now - slot.data_time
        return None

    def _never_answered(self, slot: SlotState) -> bool:
        return slot.data_time is None  # a run's value or error comes with its data time

    def _waiting(self, slot: SlotState, now: float) -> bool:
        """No reading yet, and still within the grace a first reading gets."""
        grace = self.first_grace + self._held[0]
        return self._never_answered(slot) and now - self._first_frame <= grace

    def _error(self, name: str, now: float) -> str | None:
        slot = self._slots[name]
        if self._never_answered(slot) and not self._waiting(slot, now):
            since = slot.pending_since if slot.pending_since is not None else self._first_frame
            return f"timed out: no answer for {now - since:.0f} s"
        return slot.error

    def _snapshot(self, now: float, latency_ms: float | None) -> HostSnapshot:
        system = self._sys.value
        procs = self._slurm.enrich(self._procs.value, self.info.hostname)
        gpu, docker = self._gpu.value, self._docker.value
        usage = with_usage(docker, procs)
        context = (self._mig, self._uptime)
        gpus, gpu_procs = self._gpu_join.parts(gpu, self._current_apps(gpu), procs, usage, context)
        containers = self._container_join.attach(usage, docker, gpus, gpu_procs)
        return _SNAPSHOT(
            name=self.name,
            state=HostState.UP,
            time=now,
            latency_ms=latency_ms,
            data_time=self._data_time(),
            hostname=self.info.hostname,
            cpu=self._procs_state.cpu,
            load=system.load if system else None,
            memory=system.memory if system else None,
            uptime_s=self._uptime,
            gpus=gpus,
            gpu_processes=gpu_procs,
            gpu_error=self._error("gpu", now) or gpu_line_errors(gpu),
            containers=containers,
            docker_error=self._error("docker", now) or (docker.docker_failure if docker else None),
            processes=self._processes(procs, system, containers),
            processes_error=self._error("procs", now),
            disks=tuple(self._disks.value or ()),
            disks_error=self._error("disks", now),
            system_error=self._error("sys", now),
            stale=self._stale(now),
            waiting=self._waiting_sections(now),
            interfaces=(*(self._net.value or ()), *self._container_net.named(containers)),
            network_error=self._error("net", now),
            disk_io=self._dio.value or (),
            disk_io_error=self._error("dio", now),
            nfs_io=self._rates.nfs,
            ports=self._port_owners.of(self._ports.value, containers, self.rule),
            ports_error=self._error("ports", now),
            podman_error=docker.podman_error if docker else None,
            slurm=self._slurm.state(),
        )

    def _data_time(self) -> float | None:
        times = [s.data_time for s in self._slots.values() if s.data_time is not None]
        return max(times) if times else None

    def _stale(self, now: float) -> dict[Section, float]:
        return {
            SECTION_OF[name]: age
            for name, slot in self._slots.items()
            if (age := self._age(name, slot, now)) is not None
        }

    def _waiting_sections(self, now: float) -> frozenset[Section]:
        return frozenset(
            SECTION_OF[name] for name, slot in self._slots.items() if self._waiting(slot, now)
        )

    def _current_apps(self, gpu: GpuReading | None) -> list[GpuApp]:
        # nvidia-smi prints no line for a sample without processes: an apps sample older than
        # a period and a half means there are none now (unless the GPU sampler itself is stuck).
        slot = self._gpu
        if gpu is None or gpu.apps_uptime is None or self._uptime is None:
            return []
        sampler_stuck = slot.data_time is not None and self._age("gpu", slot, self._now) is not None
        if sampler_stuck or self._uptime - gpu.apps_uptime <= 1.5 * self.interval:
            return gpu.apps
        return []

    def _processes(
        self,
        procs: ProcsReading | None,
        system: SystemReading | None,
        containers: Sequence[Container],
    ) -> tuple[Process, ...]:
        if procs is None:
            return ()
        total = system.memory.total if system and system.memory else None
        hz = self.info.hz
        return self._process_list.build(
            procs, total, containers, lambda ticks: start_time(procs, ticks, hz)
        )
