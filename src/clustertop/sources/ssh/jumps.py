"""Shared ProxyJump connections: one connection per jump chain, used by every host behind it."""

from __future__ import annotations

import asyncio
import contextlib
import random

import asyncssh

from clustertop.inventory.hosts import HostSpec, parse_host_spec
from clustertop.sources.ssh.connect import (
    ConnectFailure,
    OptionsCache,
    SshSettings,
    open_connection,
    proxy_jump,
)
from clustertop.sources.ssh.gates import FIRST_TRY, ConnectGates, backoff_delay


class JumpPool:
    """Opens each jump chain (`j1,j2`) once and hands the same connection to every host.

    Hosts behind one jump host share its attempt in flight and, for a backoff period, its
    failure: a dead jump host fails all its hosts within one connect timeout, not one by one.
    """

    def __init__(
        self,
        settings: SshSettings,
        gates: ConnectGates,
        *,
        backoff_base: float = 1.0,
        backoff_cap: float = 10.0,
    ) -> None:
        self._settings = settings
        self._gates = gates
        self._backoff = (backoff_base, backoff_cap)
        self._rng = random.Random()
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}
        self._pending: dict[str, asyncio.Task[asyncssh.SSHClientConnection]] = {}
        self._failed: dict[str, tuple[ConnectFailure, float]] = {}
        self._failures: dict[str, int] = {}
        self._options: dict[str, OptionsCache] = {}

    async def connection(self, chain: str, rank: int = FIRST_TRY) -> asyncssh.SSHClientConnection:
        """The connection to the last hop of `chain`, opening the hops that are not open."""
        hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
        conn: asyncssh.SSHClientConnection | None = None
        for depth in range(1, len(hops) + 1):
            conn = await self._hop(",".join(hops[:depth]), hops[depth - 1], conn, rank)
        assert conn is not None
        return conn

    async def _hop(
        self, key: str, hop: str, via: asyncssh.SSHClientConnection | None, rank: int
    ) -> asyncssh.SSHClientConnection:
        conn = self._conns.get(key)
        if conn is not None and not conn.is_closed():
            return conn
        held = self._failed.get(key)
        if held is not None and asyncio.get_running_loop().time() < held[1]:
            raise ConnectFailure(held[0].state, str(held[0]))
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._open(key, hop, via, rank), name=f"jump {key}")
            self._pending[key] = task
            task.add_done_callback(lambda done: self._settle(key, done))
        # One host giving up (cancelled) must not cancel the attempt the others wait on.
        return await asyncio.shield(task)

    def _settle(self, key: str, task: asyncio.Task[asyncssh.SSHClientConnection]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have gone

    async def _open(
        self, key: str, hop: str, via: asyncssh.SSHClientConnection | None, rank: int
    ) -> asyncssh.SSHClientConnection:
        spec = _hop_spec(hop)
        cache = self._options.setdefault(key, OptionsCache(spec, self._settings, "jumps"))
        try:
            options = await cache.get()
            if via is None and (nested := proxy_jump(options)):
                via = await self.connection(nested, rank)
            try:
                conn = await open_connection(
                    spec, self._settings, self._gates, rank=rank, tunnel=via, options=options
                )
            except ConnectFailure as failure:
                raise ConnectFailure(failure.state, f"jump host {hop}: {failure}") from failure
        except ConnectFailure as failure:
            self._hold(key, failure)
            raise
        self._conns[key] = conn
        self._failed.pop(key, None)
        self._failures.pop(key, None)
        return conn

    def _hold(self, key: str, failure: ConnectFailure) -> None:
        attempt = self._failures.get(key, 0)
        self._failures[key] = attempt + 1
        delay = backoff_delay(attempt, *self._backoff, self._rng)
        self._failed[key] = (failure, asyncio.get_running_loop().time() + delay)

    async def aclose(self) -> None:
        """Stop attempts in flight and close every jump connection."""
        pending = list(self._pending.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        conns = list(self._conns.values())
        self._conns.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(Exception):
                await conn.wait_closed()


def _hop_spec(hop: str) -> HostSpec:
    # ProxyJump hops are [user@]host[:port], the same grammar as host arguments.
    return parse_host_spec(hop)
