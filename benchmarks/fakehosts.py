"""Lightweight simulated hosts: one asyncssh server process answering on many loopback addresses.

The probe channel (`exec /bin/sh -s`) gets the recorded ready line and, for each `t SEQ [FULL]`
line, the next frame of a real recorded probe run: the run's first frames at the start of every
session, then its steady frames in a cycle (marker, sequence and uptimes filled in). Any other
command (the peers' plain command) gets the output that command printed on a simulated host
and exit status 0. Host keys differ per address and the client key must be authorized, so
clients still authenticate and verify host keys. `FakeFleet` starts this module as its own
process (`python -m benchmarks.fakehosts`), charged to its own CPU group.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import secrets
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import asyncssh
from tests.fleet import loopback
from tests.fleet.sshd import generate_key

from benchmarks import cgroups
from benchmarks.cgroups import CpuGroup
from benchmarks.frames import FrameSet
from benchmarks.harness import REPO, python_env
from benchmarks.sshfleet import ClientFiles, write_client_files
from clustertop.sources.ssh.probe import REMOTE_COMMAND

_MARKER_LINE = re.compile(r"^N='?(@[A-Za-z0-9]+)'?$")
_TICK = re.compile(r"^t (\d+)(?: \d)?$")
_READY = 'echo "$N ready'
"""The probe's ready line: it sends this, the marker and its facts before the first tick."""


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
        while marker is None:
            line = await process.stdin.readline()
            if not line:
                process.exit(0)
                return
            if found := _MARKER_LINE.match(line.rstrip("\n")):
                marker = found.group(1)
        # The rest of the program up to its ready line in one read, not line by line: on a
        # real host sh parses it there, on a CPU of its own; here that CPU is the client's.
        try:
            await process.stdin.readuntil(_READY)
        except asyncio.IncompleteReadError:
            process.exit(0)
            return
        process.stdout.write(f"{marker} {self.frames.ready}\n")
        while True:
            line = await process.stdin.readline()
            if not line:
                break
            line = line.rstrip("\n")
            if tick := _TICK.match(line):
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


START_TIMEOUT = 120.0


class FakeFleet:
    """N simulated hosts served by one asyncssh process, charged to its own CPU group."""

    def __init__(self, parent: Path, count: int) -> None:
        run_id = secrets.token_hex(3)
        self.root = parent / f"ctb-fake-{run_id}"
        """The fleet's folder."""
        self.group = CpuGroup(cgroups.CPUACCT / f"ctbench-fake-{run_id}")
        """CPU group of the server process."""
        self.addresses = loopback.spread_addresses(count)
        """One address per host."""
        self.process: subprocess.Popen[str] | None = None
        """The server process."""
        self.client: ClientFiles | None = None
        """Client files for every host, once started."""
        self.host_keys: dict[str, str] = {}
        """Public host key per address."""

    def client_files(self, count: int) -> ClientFiles:
        """Client files naming only the first `count` hosts (known_hosts as long as the fleet)."""
        assert self.client is not None
        chosen = {a: self.host_keys[a] for a in self.addresses[:count]}
        return write_client_files(
            self.root / f"client-{count}", self.client.port, chosen, self.client.client_key
        )

    def start(self, frames: Path) -> ClientFiles:
        """Keys, client files, the server replaying `frames` (a saved FrameSet); stops on error."""
        try:
            return self._start(frames)
        except BaseException:
            self.stop()
            raise

    def _start(self, frames: Path) -> ClientFiles:
        self.root.mkdir(parents=True)
        self.group.create()
        shutil.copyfile(frames, self.root / "frames.json")
        (self.root / "addresses.txt").write_text("\n".join(self.addresses) + "\n")
        keys = write_keys(self.root / "keys", self.addresses)
        client_key = generate_key(self.root / "id_client", "ctbench-client")
        authorized = client_key.with_name(client_key.name + ".pub")
        port = loopback.free_port("127.0.0.1")  # free on every 127.* address bound one by one
        self.host_keys = keys
        client = self.client = write_client_files(self.root, port, keys, client_key)
        argv = [
            sys.executable, "-m", "benchmarks.fakehosts",
            "--addresses", str(self.root / "addresses.txt"),
            "--port", str(port),
            "--keys-dir", str(self.root / "keys"),
            "--authorized-keys", str(authorized),
            "--frames", str(self.root / "frames.json"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            ["sh", "-c", 'echo $$ >"$0" && exec "$@"', str(self.group.procs_file), *argv],
            cwd=REPO,
            env=python_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=(self.root / "server.log").open("w"),
            text=True,
        )
        self._wait_ready()
        return client

    def _wait_ready(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.5)
            if ready:
                line = self.process.stdout.readline()
                if line.strip() == "ready":
                    return
                if not line:
                    log = (self.root / "server.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"fake host server exited:\n{log}")
        raise RuntimeError(f"fake host server not ready within {START_TIMEOUT} s")

    def usage_ns(self) -> int:
        """CPU ns used so far by the server process."""
        return self.group.usage_ns()

    def stop(self) -> None:
        """Stop the server (closing its stdin, then by force), remove the group and folder."""
        proc = self.process
        if proc is not None and proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.process = None
        self.group.remove()
        shutil.rmtree(self.root, ignore_errors=True)


if __name__ == "__main__":
    main()
