"""Parsers for /proc/net/dev and InfiniBand port counters, and interface grouping."""

from __future__ import annotations

import re
from collections.abc import Mapping

from clustertop.model.network import InterfaceKind, NetCounters

# Names the kernel, Docker, CNI plugins and libvirt give to interfaces that carry no traffic of
# their own off the host (it also crosses a NIC, so summing them would count it twice).
_VIRTUAL = re.compile(
    r"^(veth|docker|br-|virbr|vnet|cni|flannel|cali|vxlan|weave|kube-|tunl|tun|tap|lxc|lxd|"
    r"ifb|dummy|nodelocaldns|genev|gre|ip6tnl|sit|wg|podman|cilium|vmnet|zt)"
)
_IB_WORD = 4
"""InfiniBand data counters count 32-bit words: port_xmit_data is octets divided by 4."""


def _counter(word: str, what: str) -> int:
    if not word.isdigit():
        raise ValueError(f"{what}: not a counter: {word[:40]!r}")
    return int(word)


def _interface_line(line: str) -> NetCounters | None:
    name, colon, rest = line.partition(":")
    fields = rest.split()
    if not colon or len(fields) < 16:
        return None
    name = name.strip()
    values = [_counter(word, f"/proc/net/dev {name}") for word in fields[:16]]
    return NetCounters(
        name=name,
        rx_bytes=values[0],
        rx_packets=values[1],
        rx_errors=values[2],
        rx_drops=values[3],
        tx_bytes=values[8],
        tx_packets=values[9],
        tx_errors=values[10],
        tx_drops=values[11],
    )


def parse_net_dev(text: str) -> tuple[NetCounters, ...]:
    """Every interface in /proc/net/dev; ValueError when a line holds a non-number counter.

    The two header lines have no "name:" field with 16 counters and are skipped.
    """
    found = (_interface_line(line) for line in text.splitlines())
    return tuple(counters for counters in found if counters is not None)


def parse_ib_port(name: str, counters: Mapping[str, str]) -> NetCounters:
    """One InfiniBand port from its counters directory (file name -> contents), in bytes.

    Missing files count as 0 (older drivers lack the discard counters); a file that is not a
    number raises ValueError.
    """

    def value(file: str) -> int:
        text = counters.get(file, "0").strip()
        return _counter(text, f"infiniband {name} {file}")

    return NetCounters(
        name=name,
        rx_bytes=value("port_rcv_data") * _IB_WORD,
        rx_packets=value("port_rcv_packets"),
        rx_errors=value("port_rcv_errors"),
        rx_drops=value("port_rcv_switch_relay_errors"),
        tx_bytes=value("port_xmit_data") * _IB_WORD,
        tx_packets=value("port_xmit_packets"),
        tx_errors=value("port_xmit_constraint_errors"),
        tx_drops=value("port_xmit_discards"),
    )


def interface_kind(name: str, has_device: bool | None = None) -> InterfaceKind:
    """Group of an interface by its name, or by whether it has a hardware device when known.

    `has_device` is /sys/class/net/<name>/device existing; bonds and VLANs have none but carry a
    NIC's traffic, so they count as physical unless the name says otherwise.
    """
    if name == "lo":
        return InterfaceKind.LOOPBACK
    if has_device:
        return InterfaceKind.PHYSICAL
    if _VIRTUAL.match(name):
        return InterfaceKind.VIRTUAL
    return InterfaceKind.PHYSICAL
