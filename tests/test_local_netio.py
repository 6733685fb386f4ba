"""Local network, disk I/O and ports readers against real interfaces, traffic and sockets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import Container
from clustertop.model.network import Interface, InterfaceKind
from clustertop.sources.local.netio import DiskIoReader, NetworkReader
from tests.waiting import wait_for

PAYLOAD = 1000
"""Bytes of each UDP datagram the tests send."""
COUNT = 50
"""Datagrams per burst."""
UDP_IP = 8 + 20
"""UDP and IPv4 headers the kernel counts on loopback."""
ETHERNET = 14
"""Ethernet header a veth counts on top."""

needs_root_tools = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None, reason="needs root and iproute2"
)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@dataclass
class Netns:
    """A network namespace the test made, and a process living in it (its /proc/<pid>/net)."""

    name: str
    holder: subprocess.Popen[bytes]

    @property
    def proc_net(self) -> str:
        return f"/proc/{self.holder.pid}/net"

    def run_python(self, code: str) -> None:
        argv = ["ip", "netns", "exec", self.name, sys.executable, "-c", code]
        subprocess.run(argv, check=True, capture_output=True, timeout=60)


@pytest.fixture
def netns_pair() -> Iterator[tuple[Netns, Netns]]:
    """Two namespaces joined by a veth pair (10.251.0.1 <-> .2), IPv6 off, ARP entries static,
    so the only traffic on the pair is what the test sends. Always removed."""
    tag = uuid.uuid4().hex[:6]
    names = (f"ctn-a-{tag}", f"ctn-b-{tag}")
    holders: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            _ip("netns", "add", name)
            holders.append(subprocess.Popen(["ip", "netns", "exec", name, "sleep", "600"]))
        _ip("link", "add", f"cta{tag}", "type", "veth", "peer", "name", f"ctb{tag}")
        for name, link, address in zip(names, (f"cta{tag}", f"ctb{tag}"), ("1", "2"), strict=True):
            _ip("link", "set", link, "netns", name)
            _ip("-n", name, "link", "set", "lo", "up")
            # all: the links there now; default: the links moved in later (the container's).
            for scope in ("all", "default"):
                sysctl = ["sysctl", "-qw", f"net.ipv6.conf.{scope}.disable_ipv6=1"]
                subprocess.run(["ip", "netns", "exec", name, *sysctl], check=True, timeout=30)
            _ip("-n", name, "addr", "add", f"10.251.0.{address}/24", "dev", link)
            _ip("-n", name, "link", "set", link, "address", f"02:00:00:00:00:0{address}")
            _ip("-n", name, "link", "set", link, "up")
        _ip("-n", names[0], "neigh", "add", "10.251.0.2", "lladdr", "02:00:00:00:00:02",
            "dev", f"cta{tag}", "nud", "permanent")  # fmt: skip
        _ip("-n", names[1], "neigh", "add", "10.251.0.1", "lladdr", "02:00:00:00:00:01",
            "dev", f"ctb{tag}", "nud", "permanent")  # fmt: skip
        wait_for(lambda: all(Path(f"/proc/{h.pid}/ns/net").exists() for h in holders))
        yield Netns(names[0], holders[0]), Netns(names[1], holders[1])
    finally:
        for holder in holders:
            holder.kill()
            holder.wait(timeout=10)
        for name in names:
            subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)


def _send(ns: Netns, address: str, receiver: bool) -> None:
    """COUNT datagrams of PAYLOAD bytes to `address`, a bound receiver there when asked."""
    ns.run_python(
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        f"dest = ({address!r}, 9999)\n"
        f"if {receiver}:\n"
        "    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(dest)\n"
        f"for _ in range({COUNT}): s.sendto(b'x' * {PAYLOAD}, dest)\n"
    )


def _by_name(interfaces: tuple[Interface, ...]) -> dict[str, Interface]:
    return {i.name: i for i in interfaces}


@needs_root_tools
def test_loopback_counts_exactly_the_test_traffic_and_its_rate_lies_within_it(
    netns_pair: tuple[Netns, Netns],
) -> None:
    ns, _ = netns_pair
    reader = NetworkReader(ns.proc_net)
    started = time.monotonic()
    first = _by_name(reader.read().interfaces)
    after_first = time.monotonic()
    _send(ns, "127.0.0.1", receiver=True)
    before_second = time.monotonic()
    second = _by_name(reader.read().interfaces)
    finished = time.monotonic()

    sent = COUNT * (PAYLOAD + UDP_IP)
    lo0, lo1 = first["lo"], second["lo"]
    assert lo1.kind is InterfaceKind.LOOPBACK
    assert lo1.counters.rx_bytes - lo0.counters.rx_bytes == sent
    assert lo1.counters.tx_bytes - lo0.counters.tx_bytes == sent
    assert lo1.counters.rx_packets - lo0.counters.rx_packets == COUNT
    assert lo0.rx_rate is None  # first reading: nothing to compare with
    assert lo1.rx_rate is not None
    assert sent / (finished - started) <= lo1.rx_rate <= sent / (before_second - after_first)


@needs_root_tools
def test_a_veth_pair_counts_the_datagrams_sent_across_it_exactly(
    netns_pair: tuple[Netns, Netns],
) -> None:
    a, b = netns_pair
    reader_a, reader_b = NetworkReader(a.proc_net), NetworkReader(b.proc_net)
    veth_a = next(n for n in _by_name(reader_a.read().interfaces) if n.startswith("cta"))
    veth_b = next(n for n in _by_name(reader_b.read().interfaces) if n.startswith("ctb"))
    start_a = _by_name(reader_a.read().interfaces)[veth_a].counters
    start_b = _by_name(reader_b.read().interfaces)[veth_b].counters
    _send(a, "10.251.0.2", receiver=False)
    end_a = _by_name(reader_a.read().interfaces)[veth_a]
    end_b = _by_name(reader_b.read().interfaces)[veth_b]

    sent = COUNT * (PAYLOAD + UDP_IP + ETHERNET)
    assert end_a.counters.tx_bytes - start_a.tx_bytes == sent
    assert end_a.counters.tx_packets - start_a.tx_packets == COUNT
    assert end_b.counters.rx_bytes - start_b.rx_bytes == sent
    assert (end_a.counters.tx_errors, end_a.counters.tx_drops) == (0, 0)
    assert end_a.tx_rate is not None and end_a.tx_rate > 0


@needs_root_tools
def test_a_re_created_interface_gives_no_rate_not_a_negative_one(
    netns_pair: tuple[Netns, Netns],
) -> None:
    a, _ = netns_pair
    reader = NetworkReader(a.proc_net)
    _send(a, "10.251.0.2", receiver=False)
    veth = next(n for n in _by_name(reader.read().interfaces) if n.startswith("cta"))
    _ip("-n", a.name, "link", "del", veth)  # takes its peer in b with it
    _ip("-n", a.name, "link", "add", veth, "type", "veth", "peer", "name", f"ctr{veth[3:]}")
    again = _by_name(reader.read().interfaces)[veth]
    assert again.counters.tx_bytes == 0  # the kernel's new counters: lower than the last ones
    assert again.tx_rate is None


def test_disk_io_counts_a_synced_write_on_its_device(tmp_path: Path) -> None:
    reader = DiskIoReader()
    first = reader.read()
    assert first.error is None, first.error
    assert all(d.busy_percent is None for d in first.devices)
    with open(tmp_path / "blob", "wb") as blob:
        blob.write(os.urandom(4 * 1024 * 1024))
        blob.flush()
        os.fsync(blob.fileno())
    second = reader.read()
    written = sum(d.counters.write_sectors for d in second.devices) - sum(
        d.counters.write_sectors for d in first.devices
    )
    assert written * 512 >= 4 * 1024 * 1024 or not second.devices  # tmpfs-only machines
    for device in second.devices:
        assert device.busy_percent is None or 0.0 <= device.busy_percent <= 100.0
        assert device.write_rate is None or device.write_rate >= 0


def test_an_unreadable_proc_net_is_stated() -> None:
    reading = NetworkReader("/nonexistent/net").read()
    assert reading.interfaces == ()
    assert reading.error is not None and "cannot read /nonexistent/net/dev" in reading.error
    assert "cannot read /nonexistent" in (DiskIoReader("/nonexistent").read().error or "")


def veth_into(a: Netns, pid: int) -> None:
    """A veth from namespace `a` (10.252.0.1) into process `pid`'s namespace (10.252.0.2), ARP
    entries static both ways, IPv6 off on the host side: only the test's traffic crosses it."""
    tag = a.name[-6:]
    _ip("link", "add", f"cth{tag}", "type", "veth", "peer", "name", f"ctk{tag}")
    _ip("link", "set", f"cth{tag}", "netns", a.name)
    _ip("link", "set", f"ctk{tag}", "netns", str(pid))
    inside = ["nsenter", "-t", str(pid), "-n", "ip"]
    for args in (
        ["link", "set", f"ctk{tag}", "address", "02:00:00:00:01:02"],
        ["addr", "add", "10.252.0.2/24", "dev", f"ctk{tag}"],
        ["link", "set", f"ctk{tag}", "up"],
        ["neigh", "add", "10.252.0.1", "lladdr", "02:00:00:00:01:01", "dev", f"ctk{tag}"],
    ):
        subprocess.run([*inside, *args], check=True, capture_output=True, timeout=30)
    # Moved in after the namespace's IPv6 was turned off: turn it off on this link too.
    sysctl = ["sysctl", "-qw", f"net.ipv6.conf.cth{tag}.disable_ipv6=1"]
    subprocess.run(["ip", "netns", "exec", a.name, *sysctl], check=True, timeout=30)
    _ip("-n", a.name, "link", "set", f"cth{tag}", "address", "02:00:00:00:01:01")
    _ip("-n", a.name, "addr", "add", "10.252.0.1/24", "dev", f"cth{tag}")
    _ip("-n", a.name, "link", "set", f"cth{tag}", "up")
    _ip("-n", a.name, "neigh", "add", "10.252.0.2", "lladdr", "02:00:00:00:01:02",
        "dev", f"cth{tag}", "nud", "permanent")  # fmt: skip


@needs_root_tools
@pytest.mark.docker
def test_a_containers_own_traffic_is_read_from_its_namespace_exactly(
    docker_engine: Any, netns_pair: tuple[Netns, Netns]
) -> None:
    """A veth from the test's namespace into a container (--network none): datagrams sent to
    the container count, exactly, as the container's received bytes."""
    a, _ = netns_pair
    name = f"ctnet-{uuid.uuid4().hex[:6]}"
    try:
        docker_engine.run_container(name)
        pid = docker_engine.container_pid(name)
        veth_into(a, pid)
        container = Container("0" * 64, name, "ctbox", "running", "Up", pid=pid)
        reader = NetworkReader(containers=lambda: (container,))

        def row() -> Interface:
            rows = [i for i in reader.read().interfaces if i.kind is InterfaceKind.CONTAINER]
            assert [i.name for i in rows] == [name]
            return rows[0]

        before = row()
        _send(a, "10.252.0.2", receiver=False)
        after = row()
        sent = COUNT * (PAYLOAD + UDP_IP + ETHERNET)
        # The container answers with ICMP port unreachable (its tx, rate-limited); its rx is
        # the test's datagrams alone (ARP entries are static both ways).
        assert after.counters.rx_bytes - before.counters.rx_bytes == sent
        assert after.counters.rx_packets - before.counters.rx_packets == COUNT
        assert after.rx_rate is not None and after.rx_rate > 0
    finally:
        docker_engine.cli("rm", "--force", name, check=False)
