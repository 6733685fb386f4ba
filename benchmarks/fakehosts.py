"""Lightweight simulated hosts: one asyncssh server process answering on many loopback addresses.

The probe channel (`exec /bin/sh -s`) gets the recorded ready line and, for each `t SEQ [FULL]`
line, the next frame of a real recorded probe run: the run's first frames at the start of every
session, then its steady frames in a cycle (marker, sequence and uptimes filled in). Any other
command (the peers' plain command) gets the output that command printed on a simulated host
and exit status 0. Host keys differ per address and the client key must be authorized, so
clients still authenticate and verify host keys.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import time
from pathlib import Path

import asyncssh

from benchmarks.frames import FrameSet
from clustertop.sources.ssh.probe import REMOTE_COMMAND

_MARKER_LINE = re.compile(r"^N='?(@[A-Za-z0-9]+)'?$")
_TICK = re.compile(r"^t (\d+)(?: \d)?$")


class Replayer:
    """Answers every session of every address from one recorded FrameSet."""

    def __init__(self, frames: FrameSet) -> None:
        self.frames = frames
        """The recorded probe run and peer output."""

    async def handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        """One exec channel."""
        try:
            if process.command == REMOTE_COMMAND:
                await self._probe(process)
            else:
                process.stdout.write(self.frames.peer_output)
                process.exit(0)
        except (asyncssh.Error, OSError, asyncio.IncompleteReadError):
            process.close()

    async def _probe(self, process: asyncssh.SSHServerProcess[str]) -> None:
        marker = None
        sent = 0
        phase = random.randrange(len(self.frames.steady))
        while True:
            line = await process.stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if marker is None:
                if found := _MARKER_LINE.match(line):
                    marker = found.group(1)
                continue
            if line.lstrip().startswith('echo "$N ready'):
                process.stdout.write(f"{marker} {self.frames.ready}\n")
            elif tick := _TICK.match(line):
                frame = self.frames.frame(sent, phase)
                process.stdout.write(frame.render(marker, int(tick.group(1)), _uptime()))
                sent += 1
            elif line == "q":
                break
        process.exit(0)


def _uptime() -> float:
    return time.monotonic()  # CLOCK_MONOTONIC counts from boot, as /proc/uptime does


async def serve(args: argparse.Namespace) -> None:
    replayer = Replayer(FrameSet.load(Path(args.frames)))
    addresses = Path(args.addresses).read_text().split()
    keys_dir = Path(args.keys_dir)
    servers = []
    for index, address in enumerate(addresses):
        key = asyncssh.read_private_key(keys_dir / f"host{index}")
        servers.append(
            await asyncssh.listen(
                address,
                args.port,
                server_host_keys=[key],
                authorized_client_keys=args.authorized_keys,
                process_factory=replayer.handle,
                encoding="utf-8",
                allow_pty=False,
                agent_forwarding=False,
                x11_forwarding=False,
                backlog=1024,
            )
        )
    print("ready", flush=True)
    # Serve until the harness closes our stdin (or kills us).
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)
    for server in servers:
        server.close()


def write_keys(keys_dir: Path, addresses: list[str]) -> dict[str, str]:
    """A fresh ed25519 host key per address; address -> public key ("type base64")."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    public = {}
    for index, address in enumerate(addresses):
        key = asyncssh.generate_private_key("ssh-ed25519")
        key.write_private_key(keys_dir / f"host{index}")
        public[address] = key.export_public_key("openssh").decode().split("\n")[0].strip()
        public[address] = " ".join(public[address].split()[:2])
    return public


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addresses", required=True, help="file: one address a line")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--keys-dir", required=True)
    parser.add_argument("--authorized-keys", required=True)
    parser.add_argument("--frames", required=True, help="saved FrameSet")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
