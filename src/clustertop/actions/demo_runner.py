"""Actions on the demo cluster: they change what the demo shows, and nothing anywhere else."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator, Callable

from clustertop.actions.job_target import JobTarget
from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    LogStream,
    Outcome,
    ProcessTarget,
    Target,
    Verb,
)
from clustertop.model import Container, GpuProcess, HostSnapshot, Process
from clustertop.sources.demo.frame import docker_age
from clustertop.sources.demo.source import DemoSource

_EXIT_CODES = {Verb.STOP: 0, Verb.KILL: 137}
_DID = {Verb.STOP: "stopped", Verb.KILL: "killed"}
_SIGNALS = {Verb.TERM: "SIGTERM", Verb.SIGKILL: "SIGKILL"}
LOG_INTERVAL = 1.0
"""Seconds between new lines of a demo log (a live demo only; a frozen one never adds any)."""


class DemoActionRunner(ActionRunner):
    """Acts on the demo cluster by editing the snapshots its source emits."""

    def __init__(self, source: DemoSource) -> None:
        self.source = source
        """The demo whose snapshots change."""
        self.stopped: dict[tuple[str, str], tuple[float, int]] = {}
        """(host, container ID) -> when it was stopped and its exit code."""
        self.started: dict[tuple[str, str], float] = {}
        """(host, container ID) -> when a container the demo shows exited was restarted."""
        self.removed: set[tuple[str, str]] = set()
        """(host, container ID) of removed containers."""
        self.ended: set[tuple[str, int]] = set()
        """(host, PID) of signalled processes."""
        source.edit = self.apply

    def apply(self, snap: HostSnapshot) -> HostSnapshot:
        """`snap` as the actions so far left it."""
        host = snap.name
        touched = (*self.stopped, *self.started, *self.removed, *self.ended)
        if all(key[0] != host for key in touched):
            return snap
        containers = tuple(
            self._container_now(host, ctr)
            for ctr in snap.containers
            if (host, ctr.id) not in self.removed
        )
        halted = {ctr.id for ctr in snap.containers if ctr.id not in _running_ids(containers)}
        ended = {pid for name, pid in self.ended if name == host}

        def alive(pid: int, ref: object) -> bool:
            container_id = getattr(ref, "id", None)
            return pid not in ended and container_id not in halted

        return dataclasses.replace(
            snap,
            containers=containers,
            gpu_processes=tuple(p for p in snap.gpu_processes if alive(p.pid, p.container)),
            processes=tuple(p for p in snap.processes if alive(p.pid, p.container)),
        )

    def _container_now(self, host: str, ctr: Container) -> Container:
        now = self.source.clock()
        stopped = self.stopped.get((host, ctr.id))
        if stopped is not None:
            when, code = stopped
            return dataclasses.replace(
                ctr,
                state="exited",
                status=f"Exited ({code}) {docker_age(now - when)} ago",
                cpu_percent=None,
                memory_used=None,
                pid=None,
                gpu_memory_used=None,
                finished_at=when,
                exit_code=code,
            )
        started = self.started.get((host, ctr.id))
        if started is not None:
            return dataclasses.replace(
                ctr,
                state="running",
                status=f"Up {docker_age(now - started)}",
                started_at=started,
                finished_at=None,
                exit_code=None,
            )
        return ctr

    def _snapshot(self, host: str) -> HostSnapshot | None:
        return next((s for s in self.source.snapshots() if s.name == host), None)

    async def run(self, verb: Verb, target: Target) -> ActionResult:
        await asyncio.sleep(0)  # an action is never instant; let the UI breathe as on a real host
        snap = self._snapshot(target.host)
        if snap is None or not snap.is_up:
            return ActionResult(verb, target, Outcome.FAILED, "host not connected")
        if isinstance(target, ContainerTarget):
            return self._act_on_container(verb, target, snap)
        if isinstance(target, JobTarget):
            return ActionResult(verb, target, Outcome.FAILED, "the demo runs no Slurm")
        return self._signal(verb, target, snap)

    def _act_on_container(
        self, verb: Verb, target: ContainerTarget, snap: HostSnapshot
    ) -> ActionResult:
        if snap.docker_error:
            return ActionResult(verb, target, Outcome.FAILED, snap.docker_error)
        ctr = next((c for c in snap.containers if c.id == target.id), None)
        if ctr is None:
            return ActionResult(
                verb, target, Outcome.GONE, f"no container {target.id} on this host"
            )
        if ctr.name != target.name:
            detail = (
                f"container {target.id} is now named {ctr.name}, not {target.name}: nothing done"
            )
            return ActionResult(verb, target, Outcome.CHANGED, detail)
        key, now = (target.host, target.id), self.source.clock()
        if verb in _EXIT_CODES:
            if ctr.state == "running":
                self.stopped[key] = (now, _EXIT_CODES[verb])
                self.started.pop(key, None)
            return ActionResult(verb, target, Outcome.DONE, f"container {_DID[verb]}")
        if verb is Verb.RESTART:
            self.stopped.pop(key, None)
            self.started[key] = now
            return ActionResult(verb, target, Outcome.DONE, "container restarted")
        if verb is Verb.REMOVE and ctr.state == "running":
            detail = "container is running: not removed (force-remove stops and removes it)"
            return ActionResult(verb, target, Outcome.FAILED, detail)
        if verb in (Verb.REMOVE, Verb.FORCE_REMOVE):
            self.removed.add(key)
            return ActionResult(verb, target, Outcome.DONE, "container removed")
        return ActionResult(
            verb, target, Outcome.FAILED, f"refused: {verb} is not a container verb"
        )

    def _signal(self, verb: Verb, target: ProcessTarget, snap: HostSnapshot) -> ActionResult:
        if verb not in _SIGNALS:
            return ActionResult(verb, target, Outcome.FAILED, f"refused: {verb} is not a signal")
        procs: list[Process | GpuProcess] = [*snap.processes, *snap.gpu_processes]
        found = next((p for p in procs if p.pid == target.pid), None)
        if found is None:
            return ActionResult(verb, target, Outcome.GONE, f"no process {target.pid} on this host")
        start = found.start_time
        # Exact, as on a real host (where the start is compared in clock ticks).
        if start is None or start != target.start_time:
            detail = f"PID {target.pid} is now another process (PID reused): nothing done"
            return ActionResult(verb, target, Outcome.CHANGED, detail)
        self.ended.add((target.host, target.pid))
        return ActionResult(
            verb, target, Outcome.DONE, f"{_SIGNALS[verb]} sent to PID {target.pid}"
        )

    def logs(self, target: ContainerTarget, lines: int = 200) -> LogStream | None:
        return DemoLogStream(target, lines, self.source.clock, live=not self.source.frozen)


def _running_ids(containers: tuple[Container, ...]) -> set[str]:
    return {ctr.id for ctr in containers if ctr.state == "running"}


class DemoLogStream(LogStream):
    """A made-up training log: `lines` of history, then (live demo) a new line every second."""

    def __init__(
        self, target: ContainerTarget, lines: int, clock: Callable[[], float], *, live: bool
    ) -> None:
        self._rng = random.Random(target.id)
        self._history = lines
        self._clock = clock
        self._live = live
        self._step = 0
        self._closed = asyncio.Event()

    def _line(self, when: float) -> str:
        self._step += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when))
        loss = 2.5 / (1 + self._step / 40) + self._rng.uniform(-0.02, 0.02)
        rate = self._rng.uniform(410, 440)
        return (
            f"{stamp}.{int(when % 1 * 1e9):09d}Z epoch {self._step // 50 + 1} "
            f"step {self._step * 20}/20000 loss {loss:.4f} lr 3.0e-04 {rate:.1f} samples/s"
        )

    async def lines(self) -> AsyncIterator[str]:
        now = self._clock()
        for back in range(self._history, 0, -1):
            yield self._line(now - back * 2.0)
        while self._live and not self._closed.is_set():
            try:
                await asyncio.wait_for(self._closed.wait(), LOG_INTERVAL)
            except asyncio.TimeoutError:
                yield self._line(self._clock())
        await self._closed.wait()

    async def aclose(self) -> None:
        self._closed.set()
