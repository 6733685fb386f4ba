"""SshSource: many hosts at once, one connection and one probe each, ticked together."""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Callable, Sequence

import asyncssh

from clustertop.inventory.hosts import HostSpec
from clustertop.model import HostSnapshot
from clustertop.sources.base import Runner, RunnerFactory, SnapshotSink, Source
from clustertop.sources.ssh.applyq import ApplyQueue
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.gates import ConnectGates
from clustertop.sources.ssh.jumps import JumpPool
from clustertop.sources.ssh.session import HostSession, SessionSettings
from clustertop.sources.ssh.warmup import Warmup
from clustertop.util.gcpolicy import pace_for_hosts

FDS_PER_HOST = 2
"""File descriptors one host needs (its socket, plus headroom for its jump/action channels)."""


def raise_open_file_limit(hosts: int) -> str | None:
    """Raise the soft open-file limit to the hard one; a message when it is still too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    needed = hosts * FDS_PER_HOST + 64
    if needed > soft:
        return (
            f"{hosts} hosts need about {needed} open files but the limit is {soft} "
            f"(raise it with `ulimit -n {needed}` or in /etc/security/limits.conf)"
        )
    return None


class SshSource(Source):
    """Watches hosts over SSH."""

    def __init__(
        self,
        specs: Sequence[HostSpec],
        ssh: SshSettings,
        *,
        interval: float = 2.0,
        max_handshakes: int = 16,
        max_connects: int | None = None,
        session_settings: Callable[[HostSpec], SessionSettings] | None = None,
    ) -> None:
        self._specs = list(specs)
        self._ssh = ssh
        self._interval = interval
        self._max_handshakes = max_handshakes
        self._max_connects = max_connects
        self._session_settings = session_settings or (lambda _: SessionSettings(interval=interval))
        self._jumps: JumpPool | None = None
        self._warmup = Warmup((), hold=False)
        self._once = False
        self.sessions: dict[str, HostSession] = {}
        """Live sessions by host name (actions reuse their connections)."""

    @property
    def host_names(self) -> Sequence[str]:
        return [spec.display for spec in self._specs]

    @property
    def warmup(self) -> Warmup:
        """The cold-start policy of the current run (warmup.py)."""
        return self._warmup

    async def run(self, sink: SnapshotSink) -> None:
        pace_for_hosts(len(self._specs))
        # Sized here, not in __init__: the CLI raises the open-file limit in between.
        gates = ConnectGates.create(self._max_handshakes, self._max_connects)
        settings = {spec.display: self._session_settings(spec) for spec in self._specs}
        first = next(iter(settings.values()), SessionSettings(interval=self._interval))
        self._jumps = JumpPool(
            self._ssh, gates, backoff_base=first.backoff_base, backoff_cap=first.backoff_cap
        )
        applier = ApplyQueue()
        self._warmup = Warmup.for_fleet(
            self.host_names, gates.handshakes, second_waits=not self._once
        )
        self.sessions = {
            spec.display: HostSession(
                spec,
                self._ssh,
                settings[spec.display],
                self._jumps,
                gates,
                sink,
                applier,
                warmup=self._warmup,
            )
            for spec in self._specs
        }
        tasks = [asyncio.create_task(s.run(), name=f"host {n}") for n, s in self.sessions.items()]
        tasks.append(asyncio.create_task(applier.run(), name="frames to snapshots"))
        try:
            await self._tick_forever()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close_connections()

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        # --once waits for every host's second reading (its CPU deltas): never hold that back.
        self._once = True
        return await super().collect_once(timeout)

    async def _tick_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time() + self._interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
            next_tick += self._interval
            if next_tick < loop.time():  # fell behind (suspended laptop): skip, do not burst
                next_tick = loop.time() + self._interval
            holding = self._warmup.holding
            for session in self.sessions.values():
                # A host screen's host is ticked even while the fleet warms up.
                if holding and not session.full_scan:
                    session.warm_tick()
                else:
                    session.request_tick()

    async def _close_connections(self) -> None:
        for session in self.sessions.values():
            if session.connection is not None:
                session.connection.close()
        if self._jumps is not None:
            await self._jumps.aclose()

    async def aclose(self) -> None:
        await self._close_connections()

    def focus(self, host: str | None) -> None:
        """The focused host gets a full process scan every tick; the others every few ticks."""
        for name, session in self.sessions.items():
            session.full_scan = name == host

    def connection_for(self, host: str) -> asyncssh.SSHClientConnection | None:
        """The host's live connection now (sessions reconnect: look it up per action)."""
        session = self.sessions.get(host)
        return session.connection if session is not None else None

    def action_runner(self, factory: RunnerFactory[Runner]) -> Runner:
        """Actions run over this source's own connections (no second login per action)."""
        return factory.ssh(self.connection_for)
