"""Probe frames to host snapshots: keeps each section's last good data and its age."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from clustertop.model import (
    Container,
    Cpu,
    Disk,
    Gpu,
    GpuProcess,
    HostSnapshot,
    HostState,
    Process,
    Section,
    by_cpu_then_memory,
)
from clustertop.model.network import DiskIo, Interface, ListeningPort
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.parsers.mig_sample import MigReading, apply_mig
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.parsers.procfs import CpuSample, cpu_between
from clustertop.sources.join import attach_gpus, resolve_gpu_processes
from clustertop.sources.ssh.amd import amd_view
from clustertop.sources.ssh.attrib import docker_ref, row_attributions, sent_before
from clustertop.sources.ssh.container_net import ContainerTraffic
from clustertop.sources.ssh.netio import NetioRates
from clustertop.sources.ssh.port_owners import PortOwners
from clustertop.sources.ssh.ports_memo import PortsMemo
from clustertop.sources.ssh.probe import Frame, SectionOutput, split_parts
from clustertop.sources.ssh.proc_table import ProcessRows
from clustertop.sources.ssh.reader import READ_LIMIT
from clustertop.sources.ssh.sections import (
    DockerReading,
    GpuReading,
    ProcRow,
    ProcsReading,
    SectionError,
    SystemReading,
    over_before,
    read_disks,
    read_docker,
    read_gpu,
    read_procs,
    read_system,
)
from clustertop.sources.ssh.slurm import SlurmView

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


T = TypeVar("T")


@dataclass(slots=True)
class _SlotState:
    """When one section last answered, and how."""

    error: str | None = None
    """Error of the last run."""
    data_time: float | None = None
    """Client time the last run started on the host (None: the section never answered)."""
    pending_since: float | None = None
    """Client time a still-running run started, when one is running."""

    def fail(self, error: str, data_time: float) -> None:
        """A run whose output could not be had at all."""
        self.error, self.data_time = error, data_time


@dataclass(slots=True)
class _Slot(_SlotState, Generic[T]):
    """The last result of one section."""

    value: T | None = None
    """Parsed data of the last good run (None before the first, and after a failed one)."""

    def fail(self, error: str, data_time: float) -> None:
        """A run whose output could not be had at all: no value, and why."""
        self.value, self.error, self.data_time = None, error, data_time

    def read(self, parse: Callable[[], T], name: str, data_time: float) -> None:
        """Replace the value with a new run's, or record why that run's output is unusable."""
        try:
            self.value, self.error = parse(), None
        except SectionError as exc:
            self.value, self.error = None, str(exc)
        except (ValueError, KeyError, IndexError) as exc:
            self.value, self.error = None, f"unreadable {name} output ({exc})"
        self.data_time = data_time


@dataclass(slots=True)
class HostInfo:
    """Facts from the probe's ready line."""

    hz: int = 100
    """Clock ticks per second."""
    page_size: int = 4096
    """Bytes per page."""
    hostname: str | None = None
    """uname -n."""


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
    _sys: _Slot[SystemReading] = field(default_factory=_Slot)
    _gpu: _Slot[GpuReading] = field(default_factory=_Slot)
    _disks: _Slot[list[Disk]] = field(default_factory=_Slot)
    _docker: _Slot[DockerReading] = field(default_factory=_Slot)
    _procs: _Slot[ProcsReading] = field(default_factory=_Slot)
    _net: _Slot[tuple[Interface, ...]] = field(default_factory=_Slot)
    _dio: _Slot[tuple[DiskIo, ...]] = field(default_factory=_Slot)
    _ports: _Slot[tuple[ListeningPort, ...]] = field(default_factory=_Slot)
    _container_net: ContainerTraffic = field(default_factory=ContainerTraffic)
    _port_owners: PortOwners = field(default_factory=PortOwners)
    _ports_memo: PortsMemo = field(default_factory=PortsMemo)
    _rates: NetioRates = field(default_factory=NetioRates)
    _slurm: SlurmView = field(default_factory=SlurmView)
    _mig: MigReading | None = None
    """The last MIG sample: the probe sends one only when it is new."""
    _prev_cpu: CpuSample | None = None
    _cpu: Cpu | None = None
    _btime: float | None = None
    _uptime: float | None = None
    _now: float = 0.0
    _first_frame: float = -1.0
    _held: tuple[float, float] = (0.0, 0.0)
    """Seconds of ticks withheld at cold start (warmup.py), and when the last one was."""
    _known_procs: ProcsReading | None = None
    """The last good procs reading with every row since the last full scan: what "=" means."""
    _table: ProcessRows = field(init=False)
    _slots: dict[str, _SlotState] = field(default_factory=dict)
    """Every section's slot by probe section name, in SECTION_OF's order."""

    def __post_init__(self) -> None:
        self._table = ProcessRows(self.info.page_size, self.rule)
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
        parts = split_parts(out.body, self.marker)
        if name == "sys":
            self._sys.read(lambda: read_system(out.body), name, data_time)
        elif name == "gpu":
            before = self._gpu.value.amd if self._gpu.value else None
            self._gpu.read(lambda: read_gpu(parts, out.returncode, before), name, data_time)
            if self._gpu.value is not None and self._gpu.value.mig is not None:
                self._mig = self._gpu.value.mig
        elif name == "disks":
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
            self._procs.read(lambda: self._read_procs(parts.get("", "")), name, data_time)
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

    def _read_procs(self, text: str) -> ProcsReading:
        reading = self._kept(self._with_known_args(read_procs(text)))
        before, self._known_procs = self._known_procs, reading
        if reading.keep and self._procs.value is None and before is not None:
            # The slot lost its rows to a failed reading; "=" still means what came before.
            self._known_procs = over_before(before, reading)
        self._btime = reading.btime if reading.btime is not None else self._btime
        if reading.cpu is not None:
            if self._prev_cpu is not None:
                self._cpu = cpu_between(self._prev_cpu, reading.cpu)
            self._prev_cpu = reading.cpu
        return reading

    def _kept(self, reading: ProcsReading) -> ProcsReading:
        # Between full scans the probe re-reads only some processes and no container usage;
        # the rest stay as they were.
        before = self._procs.value
        if not reading.keep or before is None:
            return reading
        return over_before(before, reading)

    def _with_known_args(self, reading: ProcsReading) -> ProcsReading:
        # The probe sends a process's arguments once; "=" stands for the ones it sent before.
        before = self._known_procs
        by_pid = row_attributions(reading, before)
        rows = reading.rows
        for pid, row in rows.items():
            if row.command == "=":  # same keys: replacing values while iterating is safe
                rows[pid] = _with_command(row, sent_before(before, pid, row.start_ticks))
        # The `a` lines are read: the reading kept until the next one needs only what they say.
        return dataclasses.replace(reading, attributions=by_pid, cgroups={})

    def _host_now(self, now: float) -> float:
        # Docker's times are in the host's clock: "Up 3 minutes" must not depend on our skew.
        if self._btime is not None and self._uptime is not None:
            return self._btime + self._uptime
        return now

    def withheld(self, seconds: float) -> None:
        """A tick was withheld (warmup.py): readings from before now may be that much older."""
        self._held = (self._held[0] + seconds, self.clock())

    def _age(self, name: str, slot: _SlotState, now: float) -> float | None:
        # Stale means older than its refresh period plus some slack: not merely still running.
        limit = self.every.get(name, 1) * self.interval + self.stale_after
        if slot.data_time is not None and slot.data_time <= self._held[1]:
            limit += self._held[0]  # its refresh is that many withheld ticks later
        if slot.data_time is not None and now - slot.data_time > limit:
            return now - slot.data_time
        return None

    def _never_answered(self, slot: _SlotState) -> bool:
        return slot.data_time is None  # a run's value or error comes with its data time

    def _waiting(self, slot: _SlotState, now: float) -> bool:
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
        gpu, docker, disks = self._gpu.value, self._docker.value, self._disks.value
        containers = self._containers(docker, procs)
        names = {c.id: c.name for c in containers}
        gpus, gpu_procs = self._gpus(gpu, procs, containers, names)
        requests = docker.requests if docker else {}
        containers = list(attach_gpus(containers, requests, gpus, gpu_procs))
        stale = {
            SECTION_OF[name]: age
            for name, slot in self._slots.items()
            if (age := self._age(name, slot, now)) is not None
        }
        data_times = [s.data_time for s in self._slots.values() if s.data_time is not None]
        return HostSnapshot(
            name=self.name,
            state=HostState.UP,
            time=now,
            latency_ms=latency_ms,
            data_time=max(data_times) if data_times else None,
            hostname=self.info.hostname,
            cpu=self._cpu,
            load=system.load if system else None,
            memory=system.memory if system else None,
            uptime_s=self._uptime,
            gpus=tuple(gpus),
            gpu_processes=tuple(gpu_procs),
            gpu_error=self._error("gpu", now) or _gpu_line_errors(gpu),
            containers=tuple(containers),
            docker_error=self._error("docker", now) or (docker.docker_failure if docker else None),
            processes=tuple(self._processes(procs, system, containers)),
            processes_error=self._error("procs", now),
            disks=tuple(disks or ()),
            disks_error=self._error("disks", now),
            system_error=self._error("sys", now),
            stale=stale,
            waiting=frozenset(
                SECTION_OF[name] for name, slot in self._slots.items() if self._waiting(slot, now)
            ),
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

    def _containers(
        self, docker: DockerReading | None, procs: ProcsReading | None
    ) -> list[Container]:
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

    def _start_time(self, procs: ProcsReading, ticks: int) -> float | None:
        if procs.btime is None:
            return None
        return round(procs.btime + ticks / self.info.hz, 2)

    def _gpus(
        self,
        gpu: GpuReading | None,
        procs: ProcsReading | None,
        containers: list[Container],
        names: dict[str, str],
    ) -> tuple[list[Gpu], list[GpuProcess]]:
        if gpu is None:
            return [], []
        amd_gpus, amd_apps, _ = amd_view(gpu.amd, self._uptime)
        every = [*gpu.gpus, *amd_gpus]
        index_of = {g.uuid: g.index for g in every}
        result: list[GpuProcess] = []
        cpu: dict[tuple[int, float], float] = {}
        for app in [*self._current_apps(gpu), *amd_apps]:
            row = procs.rows.get(app.pid) if procs else None
            found = procs.attributions.get(app.pid) if procs and row else None
            user, command = (row.user, row.command) if row else (None, None)
            start = self._start_time(procs, row.start_ticks) if procs and row else None
            if row is not None and start is not None and row.cpu_percent is not None:
                cpu[(app.pid, start)] = row.cpu_percent
            result.append(
                GpuProcess(
                    pid=app.pid,
                    gpu_index=index_of.get(app.gpu_uuid, -1),
                    gpu_uuid=app.gpu_uuid,
                    memory_used=app.memory_used,
                    user=user,
                    command=command or app.process_name or (row.comm if row else None),
                    container=docker_ref(row.container_id if row else None, found, names),
                    start_time=start,
                    attribution=found,
                )
            )
        gpus, result = apply_mig(every, result, self._mig)
        return gpus, list(resolve_gpu_processes(result, containers, cpu, self.rule))

    def _current_apps(self, gpu: GpuReading) -> list[GpuApp]:
        # nvidia-smi prints no line for a sample without processes: an apps sample older than
        # a period and a half means there are none now (unless the GPU sampler itself is stuck).
        slot = self._gpu
        if gpu.apps_uptime is None or self._uptime is None:
            return []
        sampler_stuck = slot.data_time is not None and self._age("gpu", slot, self._now) is not None
        if sampler_stuck or self._uptime - gpu.apps_uptime <= 1.5 * self.interval:
            return gpu.apps
        return []

    def _processes(
        self, procs: ProcsReading | None, system: SystemReading | None, containers: list[Container]
    ) -> list[Process]:
        if procs is None:
            return []
        total = system.memory.total if system and system.memory else None
        made = self._table.build(
            procs, total, containers, lambda ticks: self._start_time(procs, ticks)
        )
        return list(by_cpu_then_memory(made))


def _with_command(row: ProcRow, command: str) -> ProcRow:
    # Positional: dataclasses.replace costs several times as much, on every "=" row of a tick.
    return ProcRow(
        row.pid, row.cpu_percent, row.rss_pages, row.start_ticks, row.container_id, row.comm,
        row.user, command,
    )  # fmt: skip


def _gpu_line_errors(gpu: GpuReading | None) -> str | None:
    if gpu is None:
        return None
    amd_error = amd_view(gpu.amd)[2]
    errors = [*gpu.errors, *([f"AMD: {amd_error}"] if amd_error else [])]
    return "; ".join(errors)[:300] if errors else None
