"""The local docker section against a real Docker engine, and its failures (no daemon, access)."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from clustertop.model import Container, ContainerRef, HostSnapshot
from clustertop.sources.join import name_process_containers
from clustertop.sources.local import gpu as local_gpu
from clustertop.sources.local.docker import DockerReader
from clustertop.sources.local.processes import ProcessTable, describe_pid
from clustertop.sources.local.source import LocalSource
from tests.test_local_gpu import UUID0, FakeNvml
from tests.waiting import async_wait_for

BUSY_LOOP = ("sh", "-c", "while :; do :; done")


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


async def _watch(
    source: LocalSource, predicate: Callable[[HostSnapshot], bool], what: str, timeout: float = 30.0
) -> HostSnapshot:
    """The first snapshot from `source.run` that satisfies `predicate` (bounded wait)."""
    seen: list[HostSnapshot] = []

    def matching() -> HostSnapshot | None:
        return seen[-1] if seen and predicate(seen[-1]) else None

    task = asyncio.create_task(source.run(seen.append))
    try:
        found = await async_wait_for(matching, timeout=timeout, what=what)
        assert found is not None
        return found
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.aclose()


def _container(snap: HostSnapshot, container_id: str) -> Container | None:
    return next((c for c in snap.containers if c.id == container_id), None)


@pytest.fixture
def container(docker_engine: Any) -> Iterator[Callable[..., str]]:
    """Runs containers on the shared engine and removes them after the test."""
    names: list[str] = []

    def run(name: str, *cmd: str, labels: dict[str, str] | None = None) -> str:
        names.append(name)
        return str(docker_engine.run_container(name, *cmd, labels=labels))

    yield run
    if names:
        docker_engine.cli("rm", "--force", *names, check=False)


@pytest.mark.docker
async def test_a_busy_container_shows_running_burning_a_core_owned_by_its_name_prefix(
    docker_engine: Any, container: Callable[..., str]
) -> None:
    name = f"alice-train-{_suffix()}"
    cid = container(name, *BUSY_LOOP)
    pid = docker_engine.container_pid(name)

    def burning(snap: HostSnapshot) -> bool:
        found = _container(snap, cid)
        return found is not None and (found.cpu_percent or 0.0) > 50.0

    snap = await _watch(LocalSource(interval=0.5, docker_host=docker_engine.host), burning, name)

    found = _container(snap, cid)
    assert found is not None
    assert (found.name, found.state, found.owner) == (name, "running", "alice")
    assert found.status.startswith("Up ")
    assert found.pid == pid
    assert found.memory_used is not None and found.memory_used > 0
    assert found.log_size == 0  # the loop prints nothing; readable because we are root
    assert snap.docker_error is None
    [shell] = [p for p in snap.processes if p.pid == pid]
    assert shell.container == ContainerRef(cid, name)
    assert shell.command == "sh -c while :; do :; done"


@pytest.mark.docker
async def test_an_exited_container_shows_exited_with_its_exit_code(
    docker_engine: Any, container: Callable[..., str]
) -> None:
    name = f"carol-done-{_suffix()}"
    cid = container(name, "sh", "-c", "exit 3")

    def exited(snap: HostSnapshot) -> bool:
        found = _container(snap, cid)
        return found is not None and found.state == "exited"

    snap = await _watch(LocalSource(interval=0.5, docker_host=docker_engine.host), exited, name)

    found = _container(snap, cid)
    assert found is not None
    assert found.exit_code == 3
    assert found.status.startswith("Exited (3)")
    assert (found.cpu_percent, found.memory_used, found.pid) == (None, None, None)
    assert found.owner == "carol"


@pytest.mark.docker
async def test_an_owner_label_wins_over_the_container_name(
    docker_engine: Any, container: Callable[..., str]
) -> None:
    name = f"job-{_suffix()}"
    cid = container(name, labels={"owner": "bob"})

    snap = await LocalSource(interval=0.5, docker_host=docker_engine.host).collect_once(15.0)

    found = _container(snap[0], cid)
    assert found is not None and found.owner == "bob"
    assert found.labels == {"owner": "bob"}


@pytest.mark.docker
def test_a_top_process_inside_a_container_is_attributed_to_it(
    docker_engine: Any, container: Callable[..., str]
) -> None:
    name = f"dave-top-{_suffix()}"
    cid = container(name, "top", "-b", "-d", "5")
    pid = docker_engine.container_pid(name)

    described = describe_pid(pid)
    containers = DockerReader(docker_engine.host).read().containers
    listed = ProcessTable(top_n=100_000).read(None).processes

    assert described is not None and described.container_id == cid
    assert described.command == "top -b -d 5"
    [row] = [p for p in name_process_containers(listed, containers) if p.pid == pid]
    assert row.container == ContainerRef(cid, name)
    assert row.user == psutil.Process(pid).username()


@pytest.mark.docker
async def test_a_gpu_process_in_a_container_gets_its_container_owner_and_gpu(
    docker_engine: Any, container: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"erin-llm-{_suffix()}"
    cid = container(name, "sleep", "1000")
    pid = docker_engine.container_pid(name)
    nvml = FakeNvml(processes=[(pid, 7 * 2**30)])  # NVML stand-in: the real container PID
    monkeypatch.setattr(local_gpu, "nvml_module", lambda: nvml)

    [snap] = await LocalSource(interval=0.5, docker_host=docker_engine.host).collect_once(15.0)

    [proc] = snap.gpu_processes
    assert (proc.pid, proc.gpu_uuid, proc.memory_used) == (pid, UUID0, 7 * 2**30)
    assert proc.container == ContainerRef(cid, name)
    assert proc.owner == "erin"
    assert proc.command == "sleep 1000"
    found = _container(snap, cid)
    assert found is not None and found.gpus == (0,) and found.gpu_memory_used == 7 * 2**30


async def test_no_daemon_names_the_socket_and_the_rest_of_the_snapshot_works(
    tmp_path: Path,
) -> None:
    url = f"unix://{tmp_path}/docker.sock"

    [snap] = await LocalSource(interval=0.5, docker_host=url).collect_once(10.0)

    assert snap.docker_error == f"Docker daemon not running (cannot connect to {url})"
    assert snap.containers == ()
    assert snap.cpu is not None and snap.cpu.percent is not None
    assert snap.memory is not None and any(d.mount == "/" for d in snap.disks)


async def test_docker_host_from_the_environment_is_the_socket_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"unix://{tmp_path}/elsewhere.sock"
    monkeypatch.setenv("DOCKER_HOST", url)

    [snap] = await LocalSource(interval=0.5).collect_once(10.0)

    assert snap.docker_error == f"Docker daemon not running (cannot connect to {url})"


def test_without_the_docker_sdk_the_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "docker", None)  # makes `import docker` raise ImportError

    assert DockerReader().read().error == "docker SDK not installed"


# Python may live where other users cannot read (pyenv under /root), so the child starts as
# root, collects once to load every module it needs, and only then becomes the user.
AS_USER = """
import asyncio, json, os, sys
from clustertop.sources.local.source import LocalSource
[warm] = asyncio.run(LocalSource(interval=0.5).collect_once(15.0))
assert warm.docker_error is None, warm.docker_error
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([]); os.setgid(gid); os.setuid(uid)
[snap] = asyncio.run(LocalSource(interval=0.5).collect_once(15.0))
print(json.dumps({"uid": os.getuid(), "docker_error": snap.docker_error,
                  "memory": snap.memory is not None, "disks": len(snap.disks)}))
"""


@pytest.fixture
def throwaway_user() -> Iterator[pwd.struct_passwd]:
    if os.geteuid() != 0:
        pytest.skip("creating a user needs root")
    name = f"ctl{_suffix()}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.mark.docker
def test_a_user_without_access_to_the_socket_gets_permission_denied(
    docker_engine: Any, throwaway_user: pwd.struct_passwd
) -> None:
    user = throwaway_user
    env = {**os.environ, "DOCKER_HOST": docker_engine.host}
    result = subprocess.run(
        [sys.executable, "-c", AS_USER, str(user.pw_uid), str(user.pw_gid)],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    socket_path = docker_engine.host.removeprefix("unix://")
    assert seen["uid"] == user.pw_uid
    assert seen["docker_error"] == f"permission denied on {socket_path}"
    assert seen["memory"] and seen["disks"] > 0


@pytest.mark.docker
def test_the_reader_reconnects_after_the_daemon_comes_back(docker_engine: Any) -> None:
    reader = DockerReader(docker_engine.host)
    assert reader.read().error is None

    docker_engine.stop()
    try:
        down = reader.read()
    finally:
        docker_engine.restart()

    assert down.error == f"Docker daemon not running (cannot connect to {docker_engine.host})"
    assert down.containers == ()
    assert reader.read().error is None
