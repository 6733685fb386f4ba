"""The real Docker engine the fleet runs: containers, their host PIDs, restarts, socket rights."""

from __future__ import annotations

import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.fleet import janitor, procs
from tests.fleet.dockerd import DockerEngine
from tests.fleet.image import IMAGE


def test_container_runs_with_labels_and_no_network(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    name = container_name("alice")
    cid = docker_engine.run_container(name, labels={"owner": "alice"})
    try:
        fmt = '{{.Name}} {{index .Config.Labels "owner"}} {{.HostConfig.NetworkMode}}'
        fmt += " {{.Config.Image}}"
        shown = docker_engine.cli("inspect", "--format", fmt, cid).stdout.strip()
        assert shown == f"/{name} alice none {IMAGE}"
        assert len(cid) == 64
    finally:
        docker_engine.cli("rm", "--force", name)


def test_container_pid_is_a_host_process_in_the_container_cgroup(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    name = container_name("bob")
    cid = docker_engine.run_container(name, "sleep", "600")
    try:
        pid = docker_engine.container_pid(name)
        assert Path(f"/proc/{pid}/cmdline").read_bytes() == b"sleep\x00600\x00"
        assert f"/docker/{cid}" in Path(f"/proc/{pid}/cgroup").read_text()
    finally:
        docker_engine.cli("rm", "--force", name)


def test_foreground_run_returns_id_of_an_exited_container(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    name = container_name("carol")
    cid = docker_engine.run_container(name, "sh", "-c", "exit 3", detach=False)
    try:
        state = docker_engine.cli(
            "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", cid
        )
        assert state.stdout.strip() == "exited 3"
    finally:
        docker_engine.cli("rm", "--force", name)


def test_socket_is_for_root_only(docker_engine: DockerEngine) -> None:
    info = docker_engine.socket_path.stat()
    assert stat.S_ISSOCK(info.st_mode)
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (0, 0, 0o660)


def test_restart_keeps_containers_but_stops_them(docker_engine: DockerEngine) -> None:
    # Its own engine: restarting the shared one would disturb other tests.
    root = Path(tempfile.mkdtemp(prefix="ctd-", dir=docker_engine.root.parent))
    janitor.claim(root)
    engine = DockerEngine.start(root)
    try:
        engine.run_container("dave-job")
        assert engine.container_pid("dave-job") > 0
        engine.restart()
        assert engine.container_pid("dave-job") == 0
        assert engine.cli("info", "--format", "{{.ServerVersion}}").stdout.strip()
    finally:
        engine.remove_all_containers()
        engine.stop()
        janitor.remove_root(root)
    assert not engine.running
    assert procs.pids_mentioning(root) == []


def test_containerd_namespace_is_valid_for_any_folder_name() -> None:
    # mkdtemp names may end in "_", which containerd rejects in a namespace.
    for name in ("/tmp/ctd-ab_", "/tmp/ctf-x.y/h1/d", "/tmp/ctd-__"):
        namespace = DockerEngine(Path(name)).namespace
        assert re.fullmatch(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*", namespace), namespace
