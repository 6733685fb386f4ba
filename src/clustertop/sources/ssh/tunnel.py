"""A channel through a jump host opened first, handed to the SSH connection that runs over it later.

Opening the channel (the jump host's TCP connect to the target) and waiting for the target's
banner can take a whole connect timeout when the target is powered off; that part must not hold a
key-exchange slot, so it happens before one is taken, as for direct connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import asyncssh


class _Relay(asyncssh.SSHTCPSession[bytes]):
    """The channel's session until its owner exists: keeps what arrives, then passes it on."""

    def __init__(self) -> None:
        self.arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done when the target sent something (its banner) or the channel ended."""
        self._chan: asyncssh.SSHTCPChannel[bytes] | None = None
        self._owner: asyncssh.SSHTCPSession[bytes] | None = None
        self._held: list[bytes] = []
        self._eof = False
        self._lost: list[Exception | None] = []

    def _wake(self) -> None:
        if not self.arrived.done():
            self.arrived.set_result(None)

    def connection_made(self, chan: asyncssh.SSHTCPChannel[bytes]) -> None:
        self._chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self._owner is not None:
            self._owner.data_received(data, datatype)
            return
        self._held.append(data)
        self._wake()

    def eof_received(self) -> bool:
        if self._owner is not None:
            return bool(self._owner.eof_received())
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._owner is not None:
            self._owner.connection_lost(exc)
            return
        self._lost.append(exc)
        self._wake()

    def pause_writing(self) -> None:
        if self._owner is not None:
            self._owner.pause_writing()

    def resume_writing(self) -> None:
        if self._owner is not None:
            self._owner.resume_writing()

    def hand_over(self, owner: asyncssh.SSHTCPSession[bytes]) -> None:
        """From now on `owner` gets everything, starting with what was kept."""
        assert self._chan is not None
        self._owner = owner
        owner.connection_made(self._chan)
        owner.session_started()
        for data in self._held:
            owner.data_received(data, None)
        self._held.clear()
        if self._eof:
            owner.eof_received()
        for exc in self._lost:
            owner.connection_lost(exc)


class OpenedChannel:
    """A tunnel for asyncssh.connect(tunnel=...) whose direct-tcpip channel is already open."""

    def __init__(self, chan: asyncssh.SSHTCPChannel[bytes], relay: _Relay) -> None:
        self._chan = chan
        self._relay = relay

    async def create_connection(
        self,
        session_factory: Callable[[], asyncssh.SSHTCPSession[bytes]],
        remote_host: str,
        remote_port: int,
    ) -> tuple[asyncssh.SSHTCPChannel[bytes], asyncssh.SSHTCPSession[bytes]]:
        """What asyncssh calls to get its transport: the open channel, given to its session."""
        session = session_factory()
        self._relay.hand_over(session)
        return self._chan, session

    def close(self) -> None:
        """Close the channel (when no connection ever took it)."""
        self._chan.close()


async def open_channel(via: asyncssh.SSHClientConnection, host: str, port: int) -> OpenedChannel:
    """A channel from the jump host to host:port whose first bytes (the banner) have arrived."""
    relay = _Relay()
    chan, _ = await via.create_connection(lambda: relay, host, port)
    try:
        await relay.arrived
    except BaseException:
        chan.close()
        raise
    return OpenedChannel(chan, relay)
