"""Peer runner: one kept asyncssh connection per host, a new exec channel per tick (gpustat-web).

With --probe-one-shot the channel runs clustertop's own probe for one frame instead of the
plain command (the reference row: what the probe costs when started afresh every tick).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

import asyncssh

from benchmarks.peer_command import DONE_LINE, PEER_MARKER
from benchmarks.ticks import TickBook, connected_book, emit, fail, window_args
from clustertop.sources.ssh.probe import REMOTE_COMMAND, ProbeSettings, probe_script

MAX_HANDSHAKES = 16
"""Concurrent handshakes, as clustertop's SshSource allows."""


class ExecHost:
    """One host: connect once, then run the one-shot command whenever a tick asks."""

    def __init__(self, name: str, args: argparse.Namespace, book: TickBook) -> None:
        self.name = name
        """Host name (an address; the ssh config supplies port, user, key, known_hosts)."""
        self._args = args
        self._book = book
        self.tick = asyncio.Event()
        """Set by the ticker; a tick while an exec is in flight waits for it (no pile-up)."""
        self.errors = 0
        """Failed execs."""

    async def run(self, handshakes: asyncio.Semaphore) -> None:
        """Connect, answer the first request at once (cold start), then one exec per tick."""
        async with handshakes:
            conn = await asyncssh.connect(
                self.name,
                config=[str(self._args.ssh_config)],
                known_hosts=str(self._args.known_hosts),  # verified, as clustertop does
                connect_timeout=60,
            )
        async with conn:
            first = True
            while True:
                if not first:
                    await self.tick.wait()
                self.tick.clear()
                first = False
                sent = time.monotonic()
                if await self._once(conn):
                    self._book.arrived(self.name, time.monotonic(), sent)
                else:
                    self.errors += 1

    async def _once(self, conn: asyncssh.SSHClientConnection) -> bool:
        """One reading: True when the whole output arrived."""
        if self._args.probe_script is not None:
            return await probe_once(conn, self._args.probe_script)
        result = await conn.run(self._args.command, check=False)
        out = result.stdout if isinstance(result.stdout, str) else ""
        return out.rstrip().endswith(DONE_LINE)


async def probe_once(conn: asyncssh.SSHClientConnection, script: str) -> bool:
    """Start clustertop's probe, take its first frame, stop it and wait until it has ended."""
    process = await conn.create_process(REMOTE_COMMAND, encoding="utf-8", errors="replace")
    try:
        process.stdin.write(script)
        await process.stdout.readuntil(f"{PEER_MARKER} ready ")  # as clustertop's client does
        process.stdin.write("t 1 1\n")
        await process.stdout.readuntil(DONE_LINE + "\n")
        return True
    except asyncio.IncompleteReadError:
        return False
    finally:
        with contextlib.suppress(OSError, asyncssh.Error):
            process.stdin.write("q\n")
            process.stdin.write_eof()
        await process.wait(check=False, timeout=30)


async def ticker(book: TickBook, hosts: list[ExecHost], interval: float) -> None:
    """Tick every `interval` seconds until the window closes."""
    loop = asyncio.get_running_loop()
    next_tick = loop.time() + interval
    while not book.finished:
        await asyncio.sleep(max(0.0, next_tick - loop.time()))
        next_tick = max(next_tick + interval, loop.time())
        book.tick()
        for host in hosts:
            host.tick.set()


async def run(args: argparse.Namespace) -> None:
    book = connected_book(args)
    hosts = [ExecHost(name, args, book) for name in book.hosts]
    handshakes = asyncio.Semaphore(MAX_HANDSHAKES)
    tasks = [asyncio.create_task(h.run(handshakes)) for h in hosts]
    limit = args.timeout
    try:
        await asyncio.wait_for(ticker(book, hosts, args.interval), limit)
    except asyncio.TimeoutError:
        failed = [t for t in tasks if t.done() and t.exception()]
        fail(f"window not finished in {limit:g} s; {len(failed)} hosts failed: {failed[:1]!r}")
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
    emit("exit", errors=sum(h.errors for h in hosts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts-file", required=True)
    parser.add_argument("--ssh-config", type=Path, required=True)
    parser.add_argument("--known-hosts", type=Path, required=True)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--command", help="the plain command each tick")
    what.add_argument(
        "--probe-one-shot", action="store_true", help="clustertop's probe, one frame per exec"
    )
    parser.add_argument("--interval", type=float, default=2.0)
    window_args(parser)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.probe_script = None
    if args.probe_one_shot:
        settings = ProbeSettings(marker=PEER_MARKER, sample_ms=round(args.interval * 1000))
        args.probe_script = probe_script(settings)
    emit("start")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
