"""A host's listening ports, named and attributed again only when their inputs change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clustertop.model import Container
from clustertop.model.network import ListeningPort
from clustertop.model.owners import OwnerRule
from clustertop.sources.attribute import attribute_ports
from clustertop.sources.ssh.container_net import name_containers

_ContainerKey = tuple[tuple[str, str, Mapping[str, str]], ...]


class PortOwners:
    """The ports section comes every few ticks, but every frame's snapshot carries its ports:
    naming and attributing a host's hundreds of sockets each frame was ~15 % of an idle TUI's
    main thread (benchmarks/IDLE.md). The result depends only on the ports reading, the
    containers' ids, names and labels, and the rule, so it is kept while those stay the same."""

    __slots__ = ("_containers", "_ports", "_result", "_rule")  # one per host: no instance dict

    def __init__(self) -> None:
        self._ports: tuple[ListeningPort, ...] | None = None
        self._containers: _ContainerKey = ()
        self._rule: OwnerRule | None = None
        self._result: tuple[ListeningPort, ...] = ()

    def of(
        self,
        ports: tuple[ListeningPort, ...] | None,
        containers: Sequence[Container],
        rule: OwnerRule,
    ) -> tuple[ListeningPort, ...]:
        """The ports named and attributed (as attribute_ports(name_containers(...)) gives)."""
        if not ports:
            return ()
        # Only what attribute() and name_containers() read of a container (usage moves often).
        key = tuple((c.id, c.name, c.labels) for c in containers)
        if ports is self._ports and rule is self._rule and key == self._containers:
            return self._result
        self._result = attribute_ports(name_containers(ports, containers), containers, rule)
        self._ports, self._containers, self._rule = ports, key, rule
        return self._result
