"""Local Docker containers (exited too) from the docker SDK; CPU and memory from their cgroups."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from clustertop.model import Container
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.parsers.docker import container_from_inspect, requested_gpus
from clustertop.parsers.procfs import container_id_from_cgroup
from clustertop.sources.join import GpuRequest
from clustertop.sources.local.cgroup import CgroupMounts, local_cgroup_mounts, read_usage

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
"""Where the docker SDK connects when DOCKER_HOST is not set."""

API_TIMEOUT = 5.0
"""Seconds one Docker API call may take."""


@dataclass(frozen=True, slots=True)
class DockerReading:
    """The docker section of one local snapshot."""

    containers: tuple[Container, ...] = ()
    """All containers; GPUs not yet resolved."""
    gpu_requests: Mapping[str, GpuRequest] = field(default_factory=dict)
    """Container ID -> GPUs it requested."""
    error: str | None = None
    """Why containers could not be read."""
    podman_error: str | None = None
    """Why podman's containers could not be listed (None: listed, or no podman)."""


def docker_url(docker_host: str | None) -> str:
    """The daemon address the SDK will try: the argument, else DOCKER_HOST, else the default."""
    return docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and exceptions wrapped in their args."""
    seen: set[int] = set()
    queue = [exc]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, *current.args]
        queue.extend(item for item in linked if isinstance(item, BaseException))


def docker_error_text(exc: BaseException, url: str) -> str:
    """A readable reason, naming the socket actually tried."""
    where = url.removeprefix("unix://") if url.startswith("unix://") else url
    for cause in _causes(exc):
        if isinstance(cause, PermissionError):
            return f"permission denied on {where}"
        if isinstance(cause, (FileNotFoundError, ConnectionRefusedError)):
            return f"Docker daemon not running (cannot connect to {url})"
        if isinstance(cause, TimeoutError) or type(cause).__name__.endswith("Timeout"):
            return f"Docker daemon did not answer within {API_TIMEOUT:g} s ({url})"
    return f"Docker error ({url}): {exc}"


def gpu_request_of(inspect: Mapping[str, Any]) -> GpuRequest:
    """`docker run --gpus` requests, else NVIDIA_VISIBLE_DEVICES under the nvidia runtime."""
    requested = requested_gpus(inspect)
    host_config = inspect.get("HostConfig") or {}
    # Images like nvidia/cuda set the variable; it only means something under that runtime.
    if requested or host_config.get("Runtime") != "nvidia":
        return requested
    env = (inspect.get("Config") or {}).get("Env") or []
    values = dict(item.partition("=")[::2] for item in env if isinstance(item, str))
    visible = values.get("NVIDIA_VISIBLE_DEVICES", "").strip()
    if visible == "all":
        return "all"
    if visible in ("none", "void"):
        return ()
    return tuple(part.strip() for part in visible.split(",") if part.strip())


def log_size(inspect: Mapping[str, Any]) -> int | None:
    """Bytes in the container's json-file log (None when unreadable, e.g. not root)."""
    path = inspect.get("LogPath") or ""
    try:
        return os.stat(path).st_size if path else None
    except OSError:
        return None


class CgroupMeter:
    """CPU % per core and memory of running containers, from two cgroup readings a tick apart."""

    def __init__(
        self,
        mounts: CgroupMounts | None = None,
        identify: Callable[[str], str | None] = container_id_from_cgroup,
    ) -> None:
        self._mounts = mounts
        self._identify = identify
        """/proc/<pid>/cgroup text -> the container id it names (Docker's by default)."""
        self._previous: dict[tuple[str, int], tuple[int, float]] = {}

    def measure(self, running: Mapping[str, int]) -> dict[str, tuple[float | None, int | None]]:
        """Container ID -> (cpu %, memory) for {container ID: host PID of its main process}."""
        if self._mounts is None:
            self._mounts = local_cgroup_mounts()
        result: dict[str, tuple[float | None, int | None]] = {}
        current: dict[tuple[str, int], tuple[int, float]] = {}
        for container_id, pid in running.items():
            try:
                with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError:
                continue
            # The PID is only ours to read when it lives in this PID namespace (a local engine).
            if self._identify(text) != container_id:
                continue
            usage = read_usage(self._mounts, text)
            now = time.monotonic()
            cpu = None
            if usage.cpu_ns is not None:
                current[(container_id, pid)] = (usage.cpu_ns, now)
                cpu = self._percent((container_id, pid), usage.cpu_ns, now)
            result[container_id] = (cpu, usage.memory)
        self._previous = current
        return result

    def _percent(self, key: tuple[str, int], cpu_ns: int, now: float) -> float | None:
        previous = self._previous.get(key)
        if previous is None or now <= previous[1] or cpu_ns < previous[0]:
            return None
        return 100.0 * (cpu_ns - previous[0]) / 1e9 / (now - previous[1])


class DockerReader:
    """Talks to one Docker daemon; reconnects on the next tick after any failure."""

    def __init__(
        self,
        docker_host: str | None = None,
        owner_rule: OwnerRule = DEFAULT_RULE,
        timeout: float = API_TIMEOUT,
        meter: CgroupMeter | None = None,
    ) -> None:
        self._docker_host = docker_host
        self._owner_rule = owner_rule
        self._timeout = timeout
        self._meter = meter or CgroupMeter()
        self._client: Any = None

    def read(self) -> DockerReading:
        """One reading of every container; failures become `error`, never exceptions."""
        try:
            import docker
        except ImportError:
            return DockerReading(error="docker SDK not installed")
        url = docker_url(self._docker_host)
        try:
            if self._client is None:
                self._client = self._connect(docker)
            inspects = self._inspect_all(docker)
        except Exception as exc:  # noqa: BLE001 - the SDK raises many types; each one means "no data"
            self._close()
            return DockerReading(error=docker_error_text(exc, url))
        return self._reading(inspects)

    def close(self) -> None:
        """Close the connection to the daemon."""
        self._close()

    def _connect(self, docker: Any) -> Any:
        if self._docker_host:
            return docker.DockerClient(base_url=self._docker_host, timeout=self._timeout)
        return docker.from_env(timeout=self._timeout)

    def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _inspect_all(self, docker: Any) -> list[dict[str, Any]]:
        inspects = []
        for summary in self._client.api.containers(all=True):
            try:
                inspects.append(self._client.api.inspect_container(summary["Id"]))
            except docker.errors.NotFound:
                continue  # removed between the list and the inspect
        return inspects

    def _reading(self, inspects: list[dict[str, Any]]) -> DockerReading:
        now = time.time()
        running = {
            obj["Id"]: pid
            for obj in inspects
            if (pid := (obj.get("State") or {}).get("Pid") or 0) > 0
        }
        usage = self._meter.measure(running)
        containers = []
        requests: dict[str, GpuRequest] = {}
        for obj in inspects:
            container = container_from_inspect(obj, now=now, owner_rule=self._owner_rule)
            cpu, memory = usage.get(container.id, (None, None))
            containers.append(
                dataclasses.replace(
                    container, cpu_percent=cpu, memory_used=memory, log_size=log_size(obj)
                )
            )
            if request := gpu_request_of(obj):
                requests[container.id] = request
        return DockerReading(tuple(containers), requests)
