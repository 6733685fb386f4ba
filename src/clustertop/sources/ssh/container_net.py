"""Containers over SSH: their own traffic (the docker section's netdev part) and sockets."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from clustertop.model import Container
from clustertop.model.network import Interface, InterfaceKind, ListeningPort, NetCounters
from clustertop.parsers.netdev import parse_net_dev
from clustertop.parsers.rates import NetSample, interface_rates
from clustertop.parsers.sockets import PROTOCOLS, RawSocket, local_ipv4_addresses, parse_sockets

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_COUNTER_FIELDS = [f.name for f in dataclasses.fields(NetCounters) if f.name != "name"]
_WILDCARDS = frozenset({"0.0.0.0", "::"})


def read_netdev(text: str) -> dict[str, tuple[str, NetCounters]]:
    """The netdev part: 'c ID NAMESPACE' then that container's /proc/PID/net/dev lines ->
    ID -> (namespace, its interfaces but lo summed). Unparsable blocks are left out."""
    blocks: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        words = line.split(" ")
        if len(words) == 3 and words[0] == "c" and _HEX64.match(words[1]):
            current = []
            blocks[words[1]] = (words[2], current)
        elif current is not None:
            current.append(line)
    found: dict[str, tuple[str, NetCounters]] = {}
    for cid, (namespace, lines) in blocks.items():
        try:
            own = [c for c in parse_net_dev("\n".join(lines)) if c.name != "lo"]
        except ValueError:
            continue
        total = [sum(getattr(c, f) for c in own) for f in _COUNTER_FIELDS]
        found[cid] = (namespace, NetCounters(cid, *total))
    return found


class ContainerTraffic:
    """Rates of each container's own traffic between two docker sections (host uptime)."""

    __slots__ = ("_last", "rows")  # one per host: no instance dict

    def __init__(self) -> None:
        self._last: NetSample | None = None
        self.rows: tuple[Interface, ...] = ()
        """The latest rows, keyed by container id (named at snapshot time)."""

    def read(self, text: str, uptime: float, boot: str) -> None:
        """A docker section's netdev part, read at host uptime `uptime`."""
        found = read_netdev(text)
        # The namespace as the interface id: a container re-created under one id starts afresh.
        ids = {cid: hash(namespace) for cid, (namespace, _) in found.items()}
        sample = NetSample(uptime, tuple(c for _, c in found.values()), boot, ids)
        kinds = dict.fromkeys(ids, InterfaceKind.CONTAINER)
        self.rows = interface_rates(self._last, sample, kinds)
        self._last = sample

    def named(self, containers: Iterable[Container]) -> tuple[Interface, ...]:
        """The rows with their containers' names (those no longer listed are left out)."""
        names = {c.id: c.name for c in containers}
        return tuple(
            dataclasses.replace(row, counters=dataclasses.replace(row.counters, name=names[cid]))
            for row in self.rows
            if (cid := row.counters.name) in names
        )


def container_sockets(parts: Mapping[str, str]) -> list[tuple[RawSocket, str, str | None]]:
    """The ports section's PROTO@ID parts: (socket, container id, address reaching it)."""
    found = []
    for key, text in parts.items():
        proto, _, cid = key.partition("@")
        if proto not in PROTOCOLS or not _HEX64.match(cid):
            continue
        addresses = local_ipv4_addresses(parts.get(f"fib@{cid}", ""))
        for sock in parse_sockets(proto, text):
            found.append((sock, cid, _reach(sock, addresses)))
    return found


def _reach(sock: RawSocket, addresses: tuple[str, ...]) -> str | None:
    if sock.address in _WILDCARDS:
        return addresses[0] if addresses else None
    return None if sock.address.startswith("127.") or sock.address == "::1" else sock.address


def name_containers(
    ports: Iterable[ListeningPort], containers: Iterable[Container]
) -> tuple[ListeningPort, ...]:
    """Ports of a container's namespace (container = its id) with the container's name."""
    names = {c.id: c.name for c in containers}
    return tuple(
        dataclasses.replace(p, container=names.get(p.container) or p.container[:12])
        if p.container
        else p
        for p in ports
    )
