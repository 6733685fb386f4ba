"""Starts and stops the lightweight simulated-host server (benchmarks.fakehosts) for N hosts."""

from __future__ import annotations

import os
import secrets
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.fleet import loopback
from tests.fleet.sshd import generate_key

from benchmarks import cgroups
from benchmarks.cgroups import CpuGroup
from benchmarks.fakehosts import write_keys
from benchmarks.sshfleet import ClientFiles, write_client_files

REPO = Path(__file__).resolve().parents[1]
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
            env={**os.environ, "PYTHONPATH": str(REPO)},
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
