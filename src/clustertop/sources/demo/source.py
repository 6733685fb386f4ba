"""A deterministic demo source: 24 lab hosts with GPUs, users, containers and the usual trouble."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence

from clustertop.model import Cpu, HostSnapshot, HostState, Memory, Section
from clustertop.sources.base import Runner, RunnerFactory, SnapshotSink, Source
from clustertop.sources.demo.cluster import (
    DOCKER_DENIED,
    DRIVER_NOT_LOADED,
    GIB,
    HOST_LAYOUT,
    NO_DRIVER_HOST,
    PlannedHost,
    Planner,
)
from clustertop.sources.demo.frame import Frame
from clustertop.sources.demo.history import made_up_past

FROZEN_EPOCH = 1_760_000_000.0
"""The fixed 'now' of a frozen demo (2025-10-09 08:53:20 UTC), so screenshots never change."""

DOWN_HOST = "gpu07"
"""The host that refuses connections."""
GPU_STALE_HOST = "gpu14"
"""The host whose nvidia-smi stopped answering (GPU section stale)."""
DISKS_STALE_HOST = "cpu03"
"""The host whose df hangs (disks section stale)."""
DOCKER_DENIED_HOST = "login"
"""The host where the user may not talk to Docker."""


class DemoSource(Source):
    """Emits a made-up but realistic cluster every `interval` seconds; same seed, same cluster.

    Values drift with the tick number so live refresh is visible; `frozen=True` keeps tick 0
    and a fixed clock (FROZEN_EPOCH) for snapshot tests and screenshots.
    """

    def __init__(self, seed: int = 7, interval: float = 2.0, *, frozen: bool = False) -> None:
        self.seed = seed
        """Seed of the cluster layout."""
        self.interval = interval
        """Seconds between ticks."""
        self.frozen = frozen
        """True: values and clock never move."""
        self.start = FROZEN_EPOCH if frozen else time.time()
        """Unix time the demo cluster is anchored to (container ages count from here)."""
        planner = Planner(seed)
        self._hosts = [planner.host(*row) for row in HOST_LAYOUT]
        self.tick = 0
        """Ticks emitted so far (stays 0 when frozen)."""
        self.edit: Callable[[HostSnapshot], HostSnapshot] | None = None
        """Applied to every snapshot before it is emitted: how demo actions show their effect."""

    @property
    def host_names(self) -> Sequence[str]:
        """gpu01..gpu16, dgx-a, dgx-b, cpu01..cpu04, login, storage01."""
        return [host.name for host in self._hosts]

    def clock(self) -> float:
        """Current time as the demo sees it: fixed when frozen."""
        return FROZEN_EPOCH if self.frozen else time.time()

    def snapshots(self, tick: int | None = None) -> list[HostSnapshot]:
        """Every host at `tick` (default: the current tick), in host order."""
        now = self.clock()
        at = self.tick if tick is None else tick
        snaps = [self._snapshot(host, at, now) for host in self._hosts]
        return [self.edit(snap) for snap in snaps] if self.edit else snaps

    def past_snapshots(self, window_s: float, resolution_s: float) -> Iterator[HostSnapshot]:
        """An hour of made-up past (the demo's drift replayed backwards): charts show something."""
        return made_up_past(
            self.snapshots, self.tick, self.clock(), window_s=window_s, resolution_s=resolution_s
        )

    def action_runner(self, factory: RunnerFactory[Runner]) -> Runner:
        """Demo actions change what this source emits, and nothing anywhere else."""
        return factory.demo(self)

    async def run(self, sink: SnapshotSink) -> None:
        """Emit all hosts now and then every interval, until cancelled."""
        while True:
            for snap in self.snapshots():
                sink(snap)
            await asyncio.sleep(self.interval)
            if not self.frozen:
                self.tick += 1

    def _snapshot(self, host: PlannedHost, tick: int, now: float) -> HostSnapshot:
        if host.name == DOWN_HOST:
            since = now - 2 * 3600 - 13 * 60
            return HostSnapshot(
                name=host.name,
                state=HostState.UNREACHABLE,
                time=now,
                error="connection refused",
                state_since=since,
                data_time=since,
            )
        frame = Frame(host, tick, now, self.start)
        gpus = () if host.name == NO_DRIVER_HOST or not host.gpu_count else frame.gpus()
        gpu_procs = frame.gpu_processes(gpus) if gpus else ()
        docker_denied = host.name == DOCKER_DENIED_HOST
        cpu, load, memory = _system(host, frame)
        return HostSnapshot(
            name=host.name,
            state=HostState.UP,
            time=now,
            latency_ms=round(1.1 + 0.4 * (tick % 5) + host.phase / 4, 1),
            state_since=self.start - 600,
            data_time=now,
            hostname=host.name,
            uptime_s=host.uptime + (now - self.start),
            gpus=gpus,
            gpu_processes=gpu_procs,
            gpu_error=_gpu_error(host.name),
            containers=() if docker_denied else frame.containers(gpu_procs),
            docker_error=DOCKER_DENIED if docker_denied else None,
            processes=frame.processes(),
            disks=frame.disks(),
            disks_error="df timed out after 10 s" if host.name == DISKS_STALE_HOST else None,
            stale=_stale(host.name, tick, self.interval),
            cpu=cpu,
            load=load,
            memory=memory,
        )


def _gpu_error(name: str) -> str | None:
    if name == NO_DRIVER_HOST:
        return DRIVER_NOT_LOADED
    return "nvidia-smi timed out after 10 s" if name == GPU_STALE_HOST else None


def _stale(name: str, tick: int, interval: float) -> dict[Section, float]:
    if name == GPU_STALE_HOST:
        return {Section.GPU: 14.0 + (tick % 8) * interval}
    if name == DISKS_STALE_HOST:
        return {Section.DISKS: 32.0 + (tick % 8) * interval}
    return {}


def _system(host: PlannedHost, frame: Frame) -> tuple[Cpu, tuple[float, float, float], Memory]:
    """CPU, load and memory, consistent with the host's running jobs."""
    busy_cores = sum(max(len(job.gpus), 1) * (0.97 if job.util else 0.003) for job in frame.running)
    percent = min(100.0, 100 * busy_cores / host.cores + 3 + 2 * frame.wave())
    used = sum(job.host_gib for job in frame.running) * GIB + host.memory_gib * GIB * 0.06
    total = host.memory_gib * GIB
    load = percent / 100 * host.cores
    cpu = Cpu(
        percent=round(percent, 1),
        user_percent=round(percent * 0.86, 1),
        system_percent=round(percent * 0.12, 1),
        iowait_percent=round(percent * 0.02, 1),
        count=host.cores,
    )
    loads = (round(load * 1.04, 2), round(load * 0.97, 2), round(load * 0.9, 2))
    memory = Memory(
        total=total,
        used=int(used),
        available=int(total - used),
        swap_total=8 * GIB,
        swap_used=int(0.2 * GIB),
    )
    return cpu, loads, memory
