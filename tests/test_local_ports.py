"""Local listening ports against real sockets: another user's, one we cannot see, a container's."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import Container, HostSnapshot
from clustertop.model.network import InterfaceKind, ListeningPort
from clustertop.sources.local.ports import NOT_PERMITTED, PortReader, user_name
from clustertop.sources.local.source import LocalSource
from tests.waiting import wait_for

NOBODY = 65534
SRC = str(Path(__file__).resolve().parents[1] / "src")
LISTEN = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    "print(s.getsockname()[1], flush=True); time.sleep(600)\n"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (setpriv to another user)")


def _as_nobody(*argv: str) -> list[str]:
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv]


@pytest.fixture
def listener() -> Iterator[Any]:
    """Starts a process listening on 127.0.0.1:<free port>; yields a function returning
    (process, port); every process is killed afterwards."""
    started: list[subprocess.Popen[str]] = []

    def start(as_nobody: bool) -> tuple[subprocess.Popen[str], int]:
        argv = [sys.executable, "-c", LISTEN]
        proc = subprocess.Popen(
            _as_nobody(*argv) if as_nobody else argv, stdout=subprocess.PIPE, text=True
        )
        started.append(proc)
        assert proc.stdout is not None
        return proc, int(proc.stdout.readline())

    yield start
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


def _port(ports: tuple[ListeningPort, ...], number: int) -> ListeningPort:
    # The listener printed its port after listen(): the socket is there already.
    return next(p for p in ports if p.port == number and p.protocol == "tcp")


@needs_root
def test_another_users_socket_shows_its_user_and_process_to_root(listener: Any) -> None:
    proc, number = listener(as_nobody=True)
    port = _port(PortReader().read().ports, number)
    assert (port.address, port.uid, port.user) == ("127.0.0.1", NOBODY, "nobody")
    assert (port.pid, port.note, port.container) == (proc.pid, None, None)
    assert port.process is not None and port.process.startswith("python")
    assert port.reach_address == "127.0.0.1"


READ_AS_NOBODY = (
    "import json, sys\n"
    f"sys.path.insert(0, {SRC!r})\n"
    "from clustertop.sources.local.ports import PortReader\n"
    "ports = PortReader().read().ports\n"
    "print(json.dumps([[p.port, p.user, p.pid, p.note] for p in ports]))\n"
)


@needs_root
def test_without_root_other_users_processes_are_not_permitted_never_guessed(
    listener: Any,
) -> None:
    _, root_port = listener(as_nobody=False)
    own_proc, own_port = listener(as_nobody=True)
    out = subprocess.run(
        _as_nobody(sys.executable, "-c", READ_AS_NOBODY),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    seen = {row[0]: row[1:] for row in json.loads(out)}
    assert seen[root_port] == ["root", None, NOT_PERMITTED]
    assert seen[own_port] == ["nobody", own_proc.pid, None]


@pytest.mark.docker
def test_a_socket_inside_a_container_is_listed_with_the_container(docker_engine: Any) -> None:
    name = f"jupyter-{uuid.uuid4().hex[:8]}"
    try:
        docker_engine.run_container(name, "nc", "-l", "-p", "8888")
        pid = docker_engine.container_pid(name)
        container = Container(
            id="0" * 64, name=name, image="ctbox", state="running", status="Up", pid=pid
        )
        reader = PortReader(lambda: (container,))

        def found() -> ListeningPort | None:
            ports = reader.read().ports
            return next((p for p in ports if p.container == name and p.port == 8888), None)

        # busybox nc listens on the IPv6 wildcard (which takes IPv4 too).

        port = wait_for(found, timeout=15, what="the container's port 8888")
        assert (port.protocol, port.address, port.user) == ("tcp6", "::", "root")
        assert (port.pid, port.process) == (pid, "nc")
        assert port.reach_address is None  # --network none: no address reaches it from the host
        host_ports = [p for p in PortReader().read().ports if p.inode == port.inode]
        assert host_ports == []  # not in the host's namespace
    finally:
        docker_engine.cli("rm", "--force", name, check=False)


def test_the_local_source_carries_ports_interfaces_and_disk_io(listener: Any) -> None:
    """Through LocalSource's own section runners: the ports, the interfaces with rates (the
    second snapshot has them) and the block devices reach the snapshot, no section failing."""
    proc, number = listener(as_nobody=False)
    source = LocalSource(interval=0.2, docker_host="unix:///nonexistent/docker.sock")

    async def two_snapshots() -> HostSnapshot:
        await source.snapshot()
        return await source.snapshot()

    snap = asyncio.run(two_snapshots())
    assert (snap.network_error, snap.ports_error, snap.disk_io_error) == (None, None, None)
    port = _port(snap.ports, number)
    assert (port.pid, port.user) == (proc.pid, user_name(os.geteuid()))
    lo = next(i for i in snap.interfaces if i.name == "lo")
    assert lo.kind is InterfaceKind.LOOPBACK and lo.rx_rate is not None
    assert all(d.busy_percent is None or 0 <= d.busy_percent <= 100 for d in snap.disk_io)
