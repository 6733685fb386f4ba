"""A host's ports are named and attributed once per reading, and again when a container changes."""

from __future__ import annotations

import dataclasses

from clustertop.model import Container
from clustertop.model.attribution import DOCKER, Attribution
from clustertop.model.network import ListeningPort
from clustertop.model.owners import DEFAULT_RULE
from clustertop.sources.attribute import attribute_ports
from clustertop.sources.ssh.container_net import name_containers
from clustertop.sources.ssh.port_owners import PortOwners

CID = "c" * 64


def _ports() -> tuple[ListeningPort, ...]:
    held = Attribution(DOCKER, CID)
    return (
        ListeningPort("tcp", "0.0.0.0", 8080, 0, 1, user="root", pid=10, attribution=held),
        ListeningPort("tcp", "10.0.0.2", 9090, 0, 2, user="root", pid=11, container=CID),
        ListeningPort("tcp", "127.0.0.1", 22, 0, 3, user="root", note="not permitted"),
    )


def _container(name: str, owner: str = "alice") -> Container:
    labels = {"owner": owner}
    return Container(CID, name, "img", "running", "Up", labels=labels)


def test_the_same_ports_and_containers_give_the_same_tuple_as_the_full_attribution() -> None:
    owners, ports, containers = PortOwners(), _ports(), [_container("web")]
    first = owners.of(ports, containers, DEFAULT_RULE)
    assert first == attribute_ports(name_containers(ports, containers), containers)
    assert first[0].attribution is not None and first[0].attribution.name == "web"
    assert first[1].container == "web"
    # Usage moved (a new Container object), nothing the ports show did: no work redone.
    moved = [dataclasses.replace(containers[0], cpu_percent=12.0)]
    assert owners.of(ports, moved, DEFAULT_RULE) is first


def test_a_new_reading_or_a_renamed_or_relabelled_container_is_attributed_again() -> None:
    owners, ports = PortOwners(), _ports()
    first = owners.of(ports, [_container("web")], DEFAULT_RULE)
    renamed = owners.of(ports, [_container("api")], DEFAULT_RULE)
    assert renamed[1].container == "api"
    assert renamed[0].attribution is not None and renamed[0].attribution.name == "api"
    assert renamed[0].owner == "alice"
    relabelled = owners.of(ports, [_container("api", owner="bob")], DEFAULT_RULE)
    assert relabelled[0].owner == "bob"
    again = owners.of(_ports(), [_container("api", owner="bob")], DEFAULT_RULE)
    assert again == relabelled and again is not relabelled  # a new reading is worked out anew
    gone = owners.of(ports, [], DEFAULT_RULE)
    assert gone[1].container == CID[:12] and first != gone
    assert owners.of(None, [], DEFAULT_RULE) == () and owners.of((), [], DEFAULT_RULE) == ()
