"""A slow cold start: hosts already up keep refreshing while others hang in key exchange."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostSnapshot, HostState
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource
from tests.fleet.fleet import Fleet
from tests.fleet.sshconfig import HostEntry
from tests.ssh.dropped import write_config
from tests.waiting import async_wait_for

TIMEOUT = 6.0
HUNG = 6


async def _hang_after_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """An SSH server that says its banner and then never answers the key exchange."""
    # A second late: the healthy host, whose banner comes at once, queues for a handshake first.
    await asyncio.sleep(1.0)
    writer.write(b"SSH-2.0-OpenSSH_9.2 hung\r\n")
    with contextlib.suppress(OSError):
        await reader.read()  # until the client gives up
    writer.close()


async def test_hosts_up_still_refresh_while_others_hang_in_key_exchange(
    fleet: Fleet, tmp_path: Path
) -> None:
    address = fleet.address(247)
    server = await asyncio.start_server(_hang_after_banner, address, 0)
    port = server.sockets[0].getsockname()[1]
    hung = [HostEntry(f"hung{i}", address, port) for i in range(HUNG)]
    config = write_config(tmp_path / "ssh_config", fleet, hung)
    names = ["h1", *(e.alias for e in hung)]
    history: dict[str, list[HostSnapshot]] = {n: [] for n in names}
    source = SshSource(
        [parse_host_spec(n) for n in names],
        SshSettings(config_paths=(config,), connect_timeout=TIMEOUT),
        interval=0.5,
        # Two handshakes at once: six hung hosts keep cold start going for three timeouts.
        max_handshakes=2,
        session_settings=lambda _: SessionSettings(interval=0.5, deadline=1.0, backoff_base=5.0),
    )
    held = []

    def every_hung_host_failed_once() -> bool:
        held.append(source.warmup.holding)
        return all(any(s.state is not HostState.CONNECTING for s in history[e.alias]) for e in hung)

    task = asyncio.create_task(source.run(lambda snap: history[snap.name].append(snap)))
    try:
        await async_wait_for(every_hung_host_failed_once, 60, what="every hung host timed out")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.aclose()
        server.close()
        await server.wait_closed()
    assert any(held), "the hosts up were never held back"
    ended = max(
        next(s.time for s in history[e.alias] if s.state is not HostState.CONNECTING) for e in hung
    )
    for entry in hung:
        failed = next(s for s in history[entry.alias] if s.state is not HostState.CONNECTING)
        assert failed.state is HostState.TIMEOUT, failed
    # Its first two frames and at least two ticks' frames before the last hung host timed out.
    ups = [s for s in history["h1"] if s.is_up and s.time < ended]
    assert len({s.data_time for s in ups}) >= 4, [(s.time, s.data_time) for s in ups]
