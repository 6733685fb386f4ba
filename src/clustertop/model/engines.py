"""Container engines (Docker, podman) and which container a GPU process runs in."""

from __future__ import annotations

from clustertop.model import Container, GpuProcess
from clustertop.model.attribution import PODMAN

DOCKER_ENGINE = "docker"
"""Container.engine of a Docker container."""
PODMAN_ENGINE = "podman"
"""Container.engine of a podman container."""
ENGINES = (DOCKER_ENGINE, PODMAN_ENGINE)
"""Every engine clustertop lists and acts on."""


def container_id_of(proc: GpuProcess) -> str | None:
    """The id of the Docker or podman container the process runs in, else None.

    A Docker container is the process's `container`; a podman one is named by its attribution
    only (its `container` stays None: the pane's Container column is Docker's).
    """
    if proc.container is not None:
        return proc.container.id
    found = proc.attribution
    return found.id if found is not None and found.kind == PODMAN and found.id else None


def engine_of(container: Container) -> str:
    """The container's engine, "docker" for anything unknown (older snapshots)."""
    return PODMAN_ENGINE if container.engine == PODMAN_ENGINE else DOCKER_ENGINE
