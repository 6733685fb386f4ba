"""Over SSH, a container's own traffic (docker section's cadence) and its listening sockets."""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any

import pytest

from clustertop.model import HostSnapshot
from clustertop.model.attribution import DOCKER
from clustertop.model.network import Interface, InterfaceKind, ListeningPort
from tests.ssh.test_probe_local import AWKS
from tests.ssh.test_probe_netio import NetnsProbe
from tests.test_local_netio import (
    COUNT,
    ETHERNET,
    PAYLOAD,
    UDP_IP,
    Netns,
    _send,
    netns_pair,  # noqa: F401 - the fixture
    veth_into,
)
from tests.waiting import wait_for

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("nsenter") is None,
        reason="needs root, iproute2 and nsenter",
    ),
]


def _row(snap: HostSnapshot, name: str) -> Interface | None:
    rows = [i for i in snap.interfaces if i.kind is InterfaceKind.CONTAINER and i.name == name]
    return rows[0] if rows else None


@pytest.mark.parametrize("awk", AWKS)
def test_a_containers_traffic_and_socket_come_over_the_probe(
    awk: str,
    docker_engine: Any,
    netns_pair: tuple[Netns, Netns],  # noqa: F811 - the fixture
) -> None:
    a, _ = netns_pair
    name = f"ctnet-{uuid.uuid4().hex[:6]}"
    probe = None
    try:
        cid = docker_engine.run_container(name, "nc", "-l", "-p", "8888")
        veth_into(a, docker_engine.container_pid(name))
        probe = NetnsProbe(
            awk, None, docker_every=1, holder_every=1, docker_host=docker_engine.host,
            docker=shutil.which("docker") or "docker",
        )  # fmt: skip
        assert probe is not None
        snaps: list[HostSnapshot] = []

        def tick() -> HostSnapshot:
            snaps.append(probe.snapshot(1))
            return snaps[-1]

        wait_for(lambda: (r := _row(tick(), name)) and r.rx_rate is not None, 30, what="rates")
        before = _row(snaps[-1], name)
        assert before is not None
        _send(a, "10.252.0.2", receiver=False)

        def moved() -> Interface | None:
            row = _row(tick(), name)
            return row if row and row.counters.rx_bytes != before.counters.rx_bytes else None

        after = wait_for(moved, 30, what="the container's counters after the traffic")
        assert after.counters.rx_bytes - before.counters.rx_bytes == COUNT * (
            PAYLOAD + UDP_IP + ETHERNET
        )
        assert after.counters.rx_packets - before.counters.rx_packets == COUNT
        assert after.rx_rate is not None and after.rx_rate > 0

        def socket() -> ListeningPort | None:
            ports = tick().ports
            return next((p for p in ports if p.container == name and p.pid), None)

        port = wait_for(socket, 30, what="the container's listening socket with its process")
    finally:
        if probe is not None:
            probe.close()
        docker_engine.cli("rm", "--force", name, check=False)
    assert (port.port, port.process, port.reach_address) == (8888, "nc", "10.252.0.2")
    assert port.attribution is not None
    assert (port.attribution.kind, port.attribution.id, port.attribution.name) == (
        DOCKER,
        cid,
        name,
    )
    assert all(p.inode != port.inode for p in snaps[-1].ports if p.container is None)
