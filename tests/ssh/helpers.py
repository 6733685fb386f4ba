"""Running clustertop against the loopback fleet: the real CLI, and the SSH source live."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostSnapshot
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import SimHost
from tests.waiting import wait_for


@dataclass
class OnceResult:
    """What `clustertop --once --json` did."""

    returncode: int
    doc: dict[str, Any]
    elapsed: float
    stderr: str

    def host(self, name: str) -> dict[str, Any]:
        """The JSON entry of one host."""
        return next(h for h in self.doc["hosts"] if h["name"] == name)


def run_once(
    fleet: Fleet, *hosts: str, args: Sequence[str] = (), timeout: float = 8.0
) -> OnceResult:
    """Run the installed CLI exactly as a user would, with the fleet's ssh config."""
    argv = [sys.executable, "-m", "clustertop", "--once", "--json", "-F", str(fleet.ssh_config)]
    argv += ["--timeout", str(timeout), *args, *hosts]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["XDG_CONFIG_HOME"] = str(fleet.root / "xdg")  # never the developer's own config
    started = time.monotonic()
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout + 30, env=env, check=False
    )
    elapsed = time.monotonic() - started
    doc = json.loads(done.stdout) if done.stdout.strip() else {}
    return OnceResult(done.returncode, doc, elapsed, done.stderr)


class LiveFleet:
    """An SshSource running in the test's event loop; the latest snapshot per host."""

    def __init__(
        self,
        fleet: Fleet,
        hosts: Sequence[str],
        interval: float = 0.5,
        *,
        config: Path | None = None,
        connect_timeout: float = 5.0,
        frame_grace: float = 5.0,
        **ssh: Any,
    ) -> None:
        paths = (config or fleet.ssh_config,)
        settings = SshSettings(config_paths=paths, connect_timeout=connect_timeout, **ssh)
        self.source = SshSource(
            [parse_host_spec(h) for h in hosts],
            settings,
            interval=interval,
            session_settings=lambda _: SessionSettings(
                interval=interval,
                deadline=1.0,
                frame_grace=frame_grace,
                backoff_base=0.2,
                backoff_cap=1.0,
            ),
        )
        self.latest: dict[str, HostSnapshot] = {}
        self.history: dict[str, list[HostSnapshot]] = {h: [] for h in hosts}
        self._task: asyncio.Task[None] | None = None

    def _sink(self, snap: HostSnapshot) -> None:
        self.latest[snap.name] = snap
        self.history.setdefault(snap.name, []).append(snap)

    async def __aenter__(self) -> LiveFleet:
        self._task = asyncio.create_task(self.source.run(self._sink))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.source.aclose()


def _session_mark(host: SimHost | str) -> bytes:
    """What a session of this simulated host has in its environment. A host given by name
    matches every fleet's host of that name: other test runs and benchmarks on the machine
    start fleets with the same names (h1, h2, h3), so a fleet's own host is matched by its GPU
    spec file, which only its sessions name."""
    if isinstance(host, SimHost):
        return f"CT_FAKE_GPU={host.gpu_spec_path}".encode()
    return f"CT_HOST={host}".encode()


def probe_processes(host: SimHost | str) -> list[int]:
    """PIDs of clustertop probes (`/bin/sh -s`) running in a session of this simulated host."""
    mark = _session_mark(host)
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline[:2] == [b"/bin/sh", b"-s"] and mark in environ:
            found.append(int(entry.name))
    return found


HUGE_ARGV = ["sh", "-c", "sleep 300; true", "x", *["x" * 100_000] * 19]
"""About 1.9 MB of arguments (each one is limited to 128 KiB): what any host user may run."""


def probe_temp_dirs(host: SimHost | str) -> set[Path]:
    """The temp dirs the running probes of this simulated host use (their awk's `DIR=`): other
    clustertop users on the machine make their own, which must not count."""
    mark = _session_mark(host)
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if mark in environ:
            found |= {Path(os.fsdecode(a[4:])) for a in cmdline if a.startswith(b"DIR=/")}
    return found


@contextlib.contextmanager
def huge_argv_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real process of another user (nobody, when we may switch) with HUGE_ARGV; killed after."""
    switch = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    prefix = switch if os.geteuid() == 0 and shutil.which("setpriv") else []
    proc = subprocess.Popen(
        [*prefix, *HUGE_ARGV], env={"PATH": "/usr/bin:/bin"}, start_new_session=True
    )
    try:
        # setpriv execs the shell: wait until the PID runs it, arguments and all.
        wait_for(lambda: _argv_bytes(proc.pid) > 1_900_000, 10, what="the 1.9 MB argv process")
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _argv_bytes(pid: int) -> int:
    try:
        return len(Path(f"/proc/{pid}/cmdline").read_bytes())
    except OSError:
        return 0
