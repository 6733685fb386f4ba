"""Listening ports name the owner and container/job of their process, locally and by the probe."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from clustertop.cli.json_netio import port_json
from clustertop.model import Container, HostSnapshot
from clustertop.model.attribution import DOCKER, VIA_NAME, VIA_UNIX_USER
from clustertop.model.network import ListeningPort
from clustertop.sources.attribute import attribute_ports
from clustertop.sources.local.ports import NOT_PERMITTED, PortReader
from clustertop.sources.local.source import LocalSource
from tests.ssh.test_probe_local import AWKS
from tests.ssh.test_probe_netio import NetnsProbe
from tests.waiting import wait_for

NOBODY = 65534
LISTEN = (
    "import socket, time\n"
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    "print(s.getsockname()[1], flush=True); time.sleep(600)\n"
)
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (setpriv to another user)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def host_network_container(docker_engine: Any) -> Iterator[tuple[str, str, int]]:
    """A container on the host's network listening on a free port: (id, name, port)."""
    name = f"alice-nb-{uuid.uuid4().hex[:8]}"
    number = _free_port()
    image = docker_engine.ensure_image()
    argv = ["run", "--detach", "--network", "host", "--stop-timeout", "1", "--name", name]
    docker_engine.cli(*argv, image, "nc", "-l", "-p", str(number))
    cid = docker_engine.cli("inspect", "--format", "{{.Id}}", name).stdout.strip()
    try:
        yield cid, name, number
    finally:
        docker_engine.cli("rm", "--force", name, check=False)


def _on(ports: tuple[ListeningPort, ...], number: int) -> ListeningPort | None:
    return next((p for p in ports if p.port == number and p.pid is not None), None)


@pytest.mark.docker
def test_a_containers_listener_names_its_owner_and_container_locally(
    docker_engine: Any, host_network_container: tuple[str, str, int]
) -> None:
    cid, name, number = host_network_container
    source = LocalSource(interval=0.2, docker_host=docker_engine.host)

    async def until_owned() -> HostSnapshot:
        for _ in range(100):  # the docker section names the container within a few snapshots
            snap = await source.snapshot()
            port = _on(snap.ports, number)
            if port is not None and port.owner == "alice":
                return snap
            await asyncio.sleep(0.1)
        raise AssertionError(f"port {number} never got its owner: {snap.ports}")

    snap = asyncio.run(until_owned())
    port = _on(snap.ports, number)
    assert port is not None and port.attribution is not None
    found = port.attribution
    assert (found.kind, found.id, found.name, found.via) == (DOCKER, cid, name, VIA_NAME)
    assert port.process == "nc" and port.container is None  # the host's namespace
    data = port_json(port)
    assert data["owner"] == "alice"
    assert data["attribution"]["kind"] == "docker" and data["attribution"]["name"] == name


@needs_root
def test_a_plain_process_is_owned_by_its_user_and_others_stay_not_permitted() -> None:
    listener = subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-c", LISTEN],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert listener.stdout is not None
        number = int(listener.stdout.readline())
        port = wait_for(
            lambda: _on(attribute_ports(PortReader().read().ports, ()), number),
            timeout=15,
            what=f"the listener on {number}",
        )
    finally:
        listener.kill()
        listener.wait(timeout=10)
    assert port.pid == listener.pid and port.owner == "nobody"
    assert port.attribution is not None and port.attribution.via == VIA_UNIX_USER
    denied = ListeningPort("tcp", "127.0.0.1", 1, 0, 1, user="root", note=NOT_PERMITTED)
    assert attribute_ports([denied], ()) == (denied,)  # no process: nothing guessed


needs_root_ip = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"
)


@needs_root_ip
@pytest.mark.docker
@pytest.mark.parametrize("awk", AWKS)
def test_the_probe_sends_what_a_listeners_process_belongs_to(
    awk: str, host_network_container: tuple[str, str, int]
) -> None:
    cid, name, number = host_network_container
    probe = NetnsProbe(awk, None)
    try:
        port = wait_for(
            lambda: _on(probe.snapshot(1).ports, number), timeout=20, what=f"port {number}"
        )
    finally:
        probe.close()
    assert port.attribution is not None
    assert (port.attribution.kind, port.attribution.id) == (DOCKER, cid)
    ctr = Container(id=cid, name=name, image="ctbox", state="running", status="Up")
    (owned,) = attribute_ports([port], [ctr])
    assert owned.owner == "alice" and owned.attribution is not None
    assert owned.attribution.name == name
