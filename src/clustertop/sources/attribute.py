"""Completes a process's attribution with what the host's containers say, by the owner rule."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from clustertop.model import Container, ContainerRef
from clustertop.model.attribution import DOCKER, POD, PODMAN, SLURM, Attribution, Facts, resolve
from clustertop.model.network import ListeningPort
from clustertop.model.owners import DEFAULT_RULE, OwnerRule

POD_NAME_LABEL = "io.kubernetes.pod.name"
"""Label the kubelet puts on a pod's containers (dockershim, cri-dockerd) with the pod name."""
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
"""Label with the pod's namespace."""


def _container_for(base: Attribution, by_id: Mapping[str, Container]) -> Container | None:
    if base.kind in (DOCKER, PODMAN):
        return by_id.get(base.id)
    if base.kind == POD and base.container_id:
        return by_id.get(base.container_id)
    return None


def attribute(
    base: Attribution | None,
    unix_user: str | None,
    containers: Mapping[str, Container],
    rule: OwnerRule = DEFAULT_RULE,
) -> Attribution | None:
    """The attribution with name, owner and `via` (None stays None: cgroup not read).

    `containers` holds the host's Docker and podman containers by id; a pod's container is
    found there when the runtime is Docker, and its kubelet labels then name pod and namespace.
    """
    if base is None:
        return None
    container = _container_for(base, containers)
    labels = container.labels if container else None
    facts = Facts(
        unix_user=unix_user,
        labels=labels,
        container_name=container.name if container and base.kind != POD else None,
        job_user=base.owner if base.kind == SLURM else None,
        job_name=base.name if base.kind == SLURM else None,
        job_account=base.account,
        job_gpus=base.gpus,
        pod_name=(labels or {}).get(POD_NAME_LABEL) or None,
        pod_namespace=(labels or {}).get(POD_NAMESPACE_LABEL) or None,
    )
    return resolve(base, facts, rule)


def container_ref(
    found: Attribution | None, containers: Mapping[str, Container]
) -> ContainerRef | None:
    """The Docker container a pod's process runs in, when Docker knows that container."""
    if found is None or found.kind != POD or not found.container_id:
        return None
    container = containers.get(found.container_id)
    return ContainerRef(container.id, container.name) if container else None


def attribute_ports(
    ports: Iterable[ListeningPort], containers: Iterable[Container], rule: OwnerRule = DEFAULT_RULE
) -> tuple[ListeningPort, ...]:
    """Ports whose holding process's cgroup was read, with its owner and full attribution (the
    owner rule as for any process; the socket's user stands for the process's). Ports without
    a known process ("not permitted", "no process found") are left as they are."""
    by_id = {c.id: c for c in containers}
    result = []
    for port in ports:
        found = attribute(port.attribution, port.user, by_id, rule) if port.pid else None
        if found is None:
            result.append(port)
        else:
            result.append(dataclasses.replace(port, attribution=found, owner=found.owner))
    return tuple(result)
