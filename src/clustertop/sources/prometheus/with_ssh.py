"""Prometheus for every host, SSH for the one on screen: its processes, containers and actions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from clustertop.model import HostSnapshot, HostState, placeholder
from clustertop.sources.base import Runner, RunnerFactory, SnapshotSink, Source
from clustertop.sources.prometheus.source import PrometheusSource

if TYPE_CHECKING:
    from asyncssh import SSHClientConnection

    from clustertop.sources.ssh.source import SshSource


class PrometheusWithSsh(Source):
    """Every host from Prometheus; the focused host (its host screen) also over SSH, whose
    richer reading replaces Prometheus's while it is up. When SSH fails, the host keeps what
    Prometheus has and its process part says why there is no more."""

    def __init__(self, prom: PrometheusSource, ssh_for: Callable[[str], SshSource]) -> None:
        self.prom = prom
        self._ssh_for = ssh_for
        self._sink: SnapshotSink | None = None
        self._last: dict[str, HostSnapshot] = {}
        self._ssh: SshSource | None = None
        self._ssh_host: str | None = None
        self._ssh_task: asyncio.Task[None] | None = None
        self._ssh_latest: HostSnapshot | None = None

    @property
    def host_names(self) -> Sequence[str]:
        return self.prom.host_names

    async def run(self, sink: SnapshotSink) -> None:
        self._sink = sink
        try:
            await self.prom.run(self._from_prometheus)
        finally:
            await self._stop_ssh()

    def _from_prometheus(self, snap: HostSnapshot) -> None:
        self._last[snap.name] = snap
        if self._sink is not None:
            self._sink(self._merged(snap) if snap.name == self._ssh_host else snap)

    def _from_ssh(self, snap: HostSnapshot) -> None:
        self._ssh_latest = snap
        last = self._last.get(self._ssh_host or "")
        if last is not None and self._sink is not None:
            self._sink(self._merged(last))

    def _merged(self, prom: HostSnapshot) -> HostSnapshot:
        ssh = self._ssh_latest
        if ssh is None or ssh.state is HostState.CONNECTING:
            return prom
        if ssh.is_up:
            return replace(ssh, name=prom.name, time=max(ssh.time, prom.time))
        why = f"over SSH {ssh.state}" + (f": {ssh.error}" if ssh.error else "")
        return replace(prom, processes_error=f"only Prometheus's readings: {why}")

    def view(self, hosts: Collection[str] | None) -> None:
        self.prom.view(hosts)

    def focus(self, host: str | None) -> None:
        """Open SSH to the host now on screen (closing the last one); None closes it."""
        self.prom.focus(host)
        if host == self._ssh_host:
            return
        old = self._ssh_task
        if old is not None:
            old.cancel()
        self._ssh, self._ssh_host, self._ssh_task, self._ssh_latest = None, host, None, None
        if host is None or host not in self.prom.host_names:
            return
        try:
            self._ssh = self._ssh_for(host)
        except ValueError as exc:  # a name Prometheus gave that no ssh command would take
            self._ssh_latest = placeholder(host, HostState.ERROR, time.time(), str(exc))
            return
        self._ssh_task = asyncio.get_running_loop().create_task(self._watch(self._ssh))

    async def _watch(self, ssh: SshSource) -> None:
        try:
            await ssh.run(self._from_ssh)
        finally:
            await ssh.aclose()

    async def _stop_ssh(self) -> None:
        task, self._ssh_task = self._ssh_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def connection_for(self, host: str) -> SSHClientConnection | None:
        """The SSH connection of the focused host (others have none: act from its screen)."""
        ssh = self._ssh
        return ssh.connection_for(host) if ssh is not None and host == self._ssh_host else None

    def action_runner(self, factory: RunnerFactory[Runner]) -> Runner:
        """Actions go over SSH to the host on screen, never through Prometheus."""
        return factory.ssh(self.connection_for)

    def past_snapshots(self, window_s: float, resolution_s: float) -> Iterator[HostSnapshot]:
        return self.prom.past_snapshots(window_s, resolution_s)

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        return await self.prom.collect_once(timeout)

    async def aclose(self) -> None:
        await self._stop_ssh()
        await self.prom.aclose()
