"""pytest fixtures for the loopback fleet: fleet, clean_fleet, spare_host, docker_engine."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fleet import janitor
from tests.fleet.dockerd import DOCKERD, DockerEngine
from tests.fleet.fleet import Fleet, default_plans
from tests.fleet.image import busybox_path
from tests.fleet.simhost import HostPlan, SimHost
from tests.fleet.sshd import SSHD

ENGINE_PREFIX = "ctd-"
_FLEET_FIXTURES = {"fleet", "clean_fleet", "spare_host"}
_DOCKER_FIXTURES = {"docker_engine", *_FLEET_FIXTURES}


def _missing(tools: list[str]) -> list[str]:
    return [t for t in tools if not (Path(t).is_file() if t.startswith("/") else shutil.which(t))]


def docker_unavailable() -> str | None:
    """Why a real Docker engine cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (dockerd runs as root)"
    missing = _missing([DOCKERD, "docker"])
    if busybox_path() is None:
        missing.append("busybox (busybox-static)")
    return f"missing: {', '.join(missing)}" if missing else None


def fleet_unavailable() -> str | None:
    """Why the loopback fleet cannot run here, or None when it can."""
    reason = docker_unavailable()
    if reason:
        return reason
    missing = _missing([SSHD, "ssh", "ssh-keygen", "useradd"])
    return f"missing: {', '.join(missing)} (Debian openssh-server)" if missing else None


def remove_all_containers(engine: DockerEngine) -> None:
    """Force-remove every container of `engine`."""
    engine.remove_all_containers()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the real parts they use, so `-m "not fleet"` deselects them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & _FLEET_FIXTURES:
            item.add_marker(pytest.mark.fleet)
        if names & _DOCKER_FIXTURES:
            item.add_marker(pytest.mark.docker)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[DockerEngine]:
    """One Docker engine with the busybox image, for tests that need Docker but no SSH."""
    reason = docker_unavailable()
    if reason:
        pytest.skip(f"real Docker engine unavailable: {reason}")
    parent = Path(tempfile.gettempdir())
    janitor.reap_stale(parent, ENGINE_PREFIX)
    root = Path(tempfile.mkdtemp(prefix=ENGINE_PREFIX, dir=parent))
    janitor.claim(root)
    engine = DockerEngine(root)
    try:
        engine.launch()
        engine.ensure_image()
        yield engine
    finally:
        if engine.running:
            engine.remove_all_containers()
        engine.stop()
        janitor.remove_root(root)


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    """h1, h2, h3 (own engines, different GPUs), a jump host, and the refused/silent aliases."""
    reason = fleet_unavailable()
    if reason:
        pytest.skip(f"loopback fleet unavailable: {reason}")
    started = Fleet.start(default_plans(3))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def clean_fleet(fleet: Fleet) -> Iterator[Fleet]:
    """The session fleet, put back afterwards: specs, containers, sshds, trusted keys."""
    yield fleet
    fleet.reset()


@pytest.fixture
def spare_host(fleet: Fleet) -> Iterator[SimHost]:
    """A throwaway host (Docker client, no daemon) for tests that break a host."""
    host = fleet.add_host(HostPlan("spare", docker="none-running"))
    try:
        yield host
    finally:
        fleet.remove_host(host.name)


@pytest.fixture
def container_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Makes `<stem>-<test name>` container names (owner rule: the stem's first word)."""
    slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", request.node.name).strip("-.").lower()

    def make(stem: str) -> str:
        return f"{stem}-{slug}"[:120]

    return make
