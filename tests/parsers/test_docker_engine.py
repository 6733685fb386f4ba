"""INSPECT_TEMPLATE, docker_error and the cgroup parser against a real dockerd started here."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clustertop.model import Container
from clustertop.parsers.docker import (
    INSPECT_TEMPLATE,
    container_from_inspect,
    docker_error,
    human_status,
    parse_inspect_lines,
    requested_gpus,
)
from clustertop.parsers.procfs import container_id_from_cgroup
from tests.waiting import wait_for

pytestmark = pytest.mark.docker

IMAGE = "ct-parsers-busybox"
HOSTILE = 'bob "the" [red]x[/red]\n\x1b[2J\u0085 end\u2028 \\ tab\t'
"""A label value with quotes, markup, a newline, an escape sequence and odd line breaks."""
LABELS = {"owner": HOSTILE, '[key]"x': "1", "empty": ""}
CLIENTS = sorted(
    {path for path in (shutil.which("docker"), "/usr/bin/docker") if path and os.path.exists(path)}
)


@dataclass(frozen=True)
class Engine:
    """A dockerd of our own, with the containers the tests inspect."""

    root: Path
    """Its temporary directory (socket, data, exec root)."""
    host: str
    """DOCKER_HOST value."""
    ids: dict[str, str]
    """Container name -> id."""

    def env(self) -> dict[str, str]:
        """Environment for docker CLI calls against this engine."""
        return {**os.environ, "DOCKER_HOST": self.host}


def _run(
    args: list[str], env: dict[str, str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, env=env, input=stdin, capture_output=True, timeout=90, check=False)


def _busybox_tar() -> bytes:
    """A one-binary image: busybox plus the applet links the tests use."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(shutil.which("busybox") or "/bin/busybox", arcname="bin/busybox")
        for applet in ("sh", "sleep"):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    return buffer.getvalue()


def _create_containers(env: dict[str, str]) -> dict[str, str]:
    label_args = [arg for key, value in LABELS.items() for arg in ("--label", f"{key}={value}")]
    commands = {
        "alice-train": ["run", "-d", *label_args, IMAGE, "sleep", "300"],
        "carol.x": ["create", IMAGE, "true"],
        "dave_exit": ["run", IMAGE, "sh", "-c", "exit 3"],
        "erin-paused": ["run", "-d", IMAGE, "sleep", "300"],
        "gpu-all": ["create", "--gpus", "all", IMAGE, "true"],
        "gpu-ids": ["create", "--gpus", '"device=0,GPU-abc"', IMAGE, "true"],
        "gpu-two": ["create", "--gpus", "2", IMAGE, "true"],
    }
    for name, args in commands.items():
        _run(["docker", args[0], "--name", name, "--network", "none", *args[1:]], env)
    _run(["docker", "pause", "erin-paused"], env)
    listing = _run(["docker", "ps", "-a", "--no-trunc", "--format", "{{.Names}} {{.ID}}"], env)
    ids = dict(line.split() for line in listing.stdout.decode().splitlines())
    assert set(ids) == set(commands), listing.stderr.decode()
    return ids


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    if os.geteuid() != 0:
        pytest.skip("starting dockerd needs root")
    if not CLIENTS or not all(shutil.which(tool) for tool in ("dockerd", "busybox")):
        pytest.skip("dockerd, docker or busybox not installed")
    root = Path(tempfile.mkdtemp(prefix="ct-parsers-dockerd-", dir="/tmp"))
    root.chmod(0o755)  # the permission test's throwaway user must reach the socket
    host = f"unix://{root}/docker.sock"
    env = {**os.environ, "DOCKER_HOST": host}
    with (root / "dockerd.log").open("wb") as log:
        daemon = subprocess.Popen(
            ["dockerd", "--host", host, "--data-root", f"{root}/data",
             "--exec-root", f"{root}/exec", "--pidfile", f"{root}/dockerd.pid",
             "--bridge=none", "--iptables=false"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for(lambda: _run(["docker", "version"], env).returncode == 0, timeout=90,
                     what=f"dockerd to answer (log: {root}/dockerd.log)")  # fmt: skip
            imported = _run(["docker", "import", "-", IMAGE], env, stdin=_busybox_tar())
            assert imported.returncode == 0, imported.stderr.decode()
            yield Engine(root, host, _create_containers(env))
        finally:
            listing = _run(["docker", "ps", "-aq"], env).stdout.decode().split()
            if listing:
                _run(["docker", "rm", "-f", *listing], env)
            daemon.terminate()
            try:
                daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(timeout=30)
    shutil.rmtree(root, ignore_errors=True)


def _template_containers(engine: Engine, client: str, now: float) -> dict[str, Container]:
    run = _run(
        [client, "inspect", "--format", INSPECT_TEMPLATE, *engine.ids.values()], engine.env()
    )
    assert run.returncode == 0, run.stderr.decode()
    objects = parse_inspect_lines(run.stdout.decode())
    return {c.name: c for c in (container_from_inspect(o, now=now) for o in objects)}


@pytest.mark.parametrize("client", CLIENTS)
def test_template_reads_every_state_and_hostile_labels_verbatim(
    engine: Engine, client: str
) -> None:
    containers = _template_containers(engine, client, now=time.time())
    assert set(containers) == set(engine.ids)
    alice = containers["alice-train"]
    assert dict(alice.labels) == LABELS
    assert alice.owner == HOSTILE.strip()
    assert (alice.state, alice.image, alice.exit_code) == ("running", IMAGE, None)
    assert alice.status.startswith("Up ") and alice.pid is not None
    assert (containers["carol.x"].state, containers["carol.x"].status) == ("created", "Created")
    assert (containers["carol.x"].owner, containers["carol.x"].exit_code) == ("carol", None)
    dave = containers["dave_exit"]
    assert (dave.state, dave.exit_code, dave.pid, dave.owner) == ("exited", 3, None, "dave")
    assert re.fullmatch(r"Exited \(3\) .+ ago", dave.status)
    erin = containers["erin-paused"]
    assert erin.state == "paused" and erin.status.endswith(" (Paused)")
    assert all(c.id == engine.ids[name] for name, c in containers.items())


def test_both_clients_print_the_same_template_output(engine: Engine) -> None:
    if len(CLIENTS) < 2:
        pytest.skip("only one docker client installed")
    now = time.time()
    first, second = (_template_containers(engine, client, now) for client in CLIENTS)
    assert first == second


def test_requested_gpus_from_real_device_requests(engine: Engine) -> None:
    run = _run(["docker", "inspect", "--format", INSPECT_TEMPLATE, "gpu-all", "gpu-ids", "gpu-two",
                "alice-train"], engine.env())  # fmt: skip
    assert [requested_gpus(obj) for obj in parse_inspect_lines(run.stdout.decode())] == [
        "all",
        ("0", "GPU-abc"),
        ("0", "1"),
        (),
    ]


def test_status_matches_docker_ps(engine: Engine) -> None:
    run = _run(
        ["docker", "inspect", "--format", INSPECT_TEMPLATE, *engine.ids.values()], engine.env()
    )
    states = {
        obj["Name"].lstrip("/"): obj["State"] for obj in parse_inspect_lines(run.stdout.decode())
    }
    before = time.time()
    listing = _run(["docker", "ps", "-a", "--format", "{{.Names}}\t{{.Status}}"], engine.env())
    after = time.time()
    for line in listing.stdout.decode().splitlines():
        name, status = line.split("\t")
        assert status in {human_status(states[name], before), human_status(states[name], after)}


def test_full_inspect_and_sdk_attrs_read_like_the_template(engine: Engine) -> None:
    import docker

    now = time.time()
    templated = _template_containers(engine, "docker", now)
    full = _run(["docker", "inspect", *engine.ids.values()], engine.env())
    from_full = {
        c.name: c for c in (container_from_inspect(o, now=now) for o in json.loads(full.stdout))
    }
    assert from_full == templated
    client = docker.DockerClient(base_url=engine.host)
    try:
        attrs = client.containers.get(engine.ids["alice-train"]).attrs
    finally:
        client.close()
    assert container_from_inspect(attrs, now=now) == templated["alice-train"]


def test_cgroup_of_a_container_process_names_the_container(engine: Engine) -> None:
    run = _run(["docker", "inspect", "--format", "{{.State.Pid}}", "alice-train"], engine.env())
    pid = int(run.stdout)
    assert (
        container_id_from_cgroup(Path(f"/proc/{pid}/cgroup").read_text())
        == engine.ids["alice-train"]
    )
    assert container_id_from_cgroup(Path("/proc/self/cgroup").read_text()) is None


@pytest.mark.parametrize("client", CLIENTS)
def test_daemon_not_running_messages(engine: Engine, client: str) -> None:
    missing = f"unix://{engine.root}/missing.sock"
    dead = engine.root / "dead.sock"
    if not dead.exists():
        with socket.socket(socket.AF_UNIX) as listener:
            listener.bind(str(dead))  # a socket file nobody listens on: a stopped daemon
    for address in (missing, f"unix://{dead}"):
        run = _run([client, "ps"], {**os.environ, "DOCKER_HOST": address})
        output = (run.stdout + run.stderr).decode()
        assert docker_error(output, run.returncode) == (
            f"Docker daemon not running (Cannot connect to the Docker daemon at {address})"
        )


@pytest.fixture(scope="module")
def outsider() -> Iterator[str]:
    """A throwaway Unix user outside the docker group."""
    name = f"ctp{uuid.uuid4().hex[:8]}"
    if subprocess.run(["useradd", "-M", name], capture_output=True, check=False).returncode:
        pytest.skip("cannot add a throwaway user")
    yield name
    subprocess.run(["userdel", name], capture_output=True, check=False)


@pytest.mark.parametrize("client", CLIENTS)
def test_permission_denied_message(engine: Engine, outsider: str, client: str) -> None:
    command = f"HOME=/tmp DOCKER_HOST={shlex.quote(engine.host)} {shlex.quote(client)} ps"
    run = _run(["su", "-s", "/bin/sh", outsider, "-c", command], dict(os.environ))
    output = (run.stdout + run.stderr).decode()
    assert docker_error(output, run.returncode) == (
        f"permission denied on {engine.root}/docker.sock (not in the docker group?)"
    )


def test_not_installed_message() -> None:
    run = _run(["/bin/sh", "-c", "docker ps"], {"PATH": "/nonexistent"})
    assert run.returncode == 127
    assert (
        docker_error((run.stdout + run.stderr).decode(), run.returncode) == "docker not installed"
    )
