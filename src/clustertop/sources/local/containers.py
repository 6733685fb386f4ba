"""The local containers section: Docker's containers and podman's, side by side."""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Iterable

from clustertop.model import Container
from clustertop.model.attribution import PODMAN, VIA_ROOTLESS, Attribution
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.sources.local.docker import CgroupMeter, DockerReader, DockerReading
from clustertop.sources.local.podman import PodmanCatalog


def podman_id_from_cgroup(text: str) -> str | None:
    """The podman container id /proc/<pid>/cgroup text names, else None."""
    found = classify_cgroup(text)
    return found.id if found.kind == PODMAN else None


def _me() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def rootless_rows(
    found: Iterable[tuple[Attribution | None, str | None]], listed: Iterable[str]
) -> tuple[Container, ...]:
    """Running rootless podman containers of other users, known only from their processes.

    `found` holds (attribution, Unix user) per process. Our own podman ps does not list another
    user's rootless containers; their conmon names them (kind podman, via rootless-user).
    """
    seen = set(listed)
    me = _me()
    rows: dict[str, Container] = {}
    for attribution, user in found:
        if attribution is None or attribution.kind != PODMAN or attribution.via != VIA_ROOTLESS:
            continue
        if attribution.id in seen or attribution.id in rows or not user or user == me:
            continue
        rows[attribution.id] = Container(
            id=attribution.id,
            name=attribution.name or "",
            image="",
            state="running",
            status=f"rootless (user {user})",
            owner=attribution.owner,
            engine="podman",
            rootless_user=user,
        )
    return tuple(rows.values())


class ContainersReader:
    """Docker's containers each tick, with podman's list (LIST_S old at most) appended."""

    def __init__(self, docker: DockerReader, podman: PodmanCatalog) -> None:
        self._docker = docker
        self._podman = podman
        self._meter = CgroupMeter(identify=podman_id_from_cgroup)

    def read(self) -> DockerReading:
        """One reading: Docker's (its error as docker_error), podman's (as podman_error)."""
        reading = self._docker.read()
        listed, error = self._podman.listing()
        if not listed and error is None:
            return reading  # no podman here, or none of its containers: nothing more to do
        running = {c.id: c.pid for c in listed if c.pid is not None and c.state == "running"}
        usage = self._meter.measure(running)
        measured = tuple(
            dataclasses.replace(c, cpu_percent=usage[c.id][0], memory_used=usage[c.id][1])
            if c.id in usage
            else c
            for c in listed
        )
        return dataclasses.replace(
            reading, containers=reading.containers + measured, podman_error=error
        )
