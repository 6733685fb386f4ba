"""Shared ProxyJump connections: one connection per jump chain, used by every host behind it."""

from __future__ import annotations

import asyncio
import contextlib

import asyncssh

from clustertop.inventory.hosts import HostSpec, parse_host_spec
from clustertop.sources.ssh.connect import (
    ConnectFailure,
    SshSettings,
    open_connection,
    proxy_jump,
    resolve_options,
)


class JumpPool:
    """Opens each jump chain (`j1,j2`) once and hands the same connection to every host."""

    def __init__(self, settings: SshSettings, handshakes: asyncio.Semaphore) -> None:
        self._settings = settings
        self._handshakes = handshakes
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def connection(self, chain: str) -> asyncssh.SSHClientConnection:
        """The connection to the last hop of `chain`, opening the hops that are not open."""
        hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
        conn: asyncssh.SSHClientConnection | None = None
        for depth in range(1, len(hops) + 1):
            conn = await self._hop(",".join(hops[:depth]), hops[depth - 1], conn)
        assert conn is not None
        return conn

    async def _hop(
        self, key: str, hop: str, via: asyncssh.SSHClientConnection | None
    ) -> asyncssh.SSHClientConnection:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            conn = self._conns.get(key)
            if conn is not None and not _closed(conn):
                return conn
            spec = _hop_spec(hop)
            options = await resolve_options(spec, self._settings)
            if via is None and (nested := proxy_jump(options)):
                via = await self.connection(nested)
            try:
                async with self._handshakes:
                    conn = await open_connection(spec, self._settings, via, options)
            except ConnectFailure as failure:
                raise ConnectFailure(failure.state, f"jump host {hop}: {failure}") from failure
            self._conns[key] = conn
            return conn

    async def aclose(self) -> None:
        """Close every jump connection."""
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


def _closed(conn: asyncssh.SSHClientConnection) -> bool:
    return conn.is_closed()
