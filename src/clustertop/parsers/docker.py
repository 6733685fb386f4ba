"""Parsers for `docker inspect` output (full JSON or our one-line template) and CLI errors."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from clustertop.model import Container
from clustertop.model.owners import DEFAULT_RULE, OwnerRule, owner_of
from clustertop.parsers.docker_status import human_status, parse_docker_time, state_name
from clustertop.util.strpool import share

__all__ = [
    "INSPECT_TEMPLATE",
    "container_from_inspect",
    "docker_error",
    "human_status",
    "parse_docker_time",
    "parse_inspect_lines",
    "requested_gpus",
]

INSPECT_TEMPLATE = (
    '{"Id":{{json .Id}},"Name":{{json .Name}},"Created":{{json .Created}},'
    '"Config":{"Image":{{json .Config.Image}},"Labels":{{json .Config.Labels}}},'
    '"State":{{json .State}},'
    '"HostConfig":{"DeviceRequests":{{json .HostConfig.DeviceRequests}}},'
    '"LogPath":{{json .LogPath}}}'
)
"""Go template for `docker inspect --format`: one JSON object per container per line.

Every value goes through `json`, so names and labels arrive escaped; the key paths are the
ones of the full inspect JSON, so container_from_inspect reads both.
"""

_NOT_INSTALLED = re.compile(
    r"^(?:.*: )?docker: (?:command )?not found|^(?:.*: )?docker: No such file"
    r"|command not found: docker",
    re.IGNORECASE | re.MULTILINE,
)
# Anchored at a line start: a label or name printed in data can never start a line.
_PERMISSION = re.compile(
    r"^(?:Got )?permission denied while trying to connect to the Docker daemon socket at "
    r"(?:unix://)?(?P<socket>[^\s:]+)",
    re.IGNORECASE | re.MULTILINE,
)
_DIAL_DENIED = re.compile(r"dial unix (?P<socket>\S+?): connect: permission denied")
_NO_DAEMON = re.compile(
    r"^(?:Cannot connect to the Docker daemon at|failed to connect to the docker API at) "
    r"(?P<address>\S+?)[.;]?(?:\s|$)",
    re.IGNORECASE | re.MULTILINE,
)


def parse_inspect_lines(text: str) -> list[dict[str, Any]]:
    """One JSON object per line (INSPECT_TEMPLATE output); blank lines skipped.

    Raises ValueError for a line that is not a JSON object (keep the CLI's stderr, e.g.
    "Error: No such object: ...", out of `text`). Only '\\n' separates lines: labels may carry
    U+0085 unescaped, which str.splitlines() would split on.
    """
    objects: list[dict[str, Any]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} of docker inspect output is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise ValueError(f"line {number} of docker inspect output is not a JSON object")
        objects.append(value)
    return objects


def _is_gpu_request(request: Mapping[str, Any]) -> bool:
    driver = request.get("Driver") or ""
    if driver == "nvidia":
        return True
    if driver:
        return False  # another vendor's device driver (amd, cdi, ...)
    capability_sets = request.get("Capabilities") or []
    return any("gpu" in (caps or []) or "nvidia" in (caps or []) for caps in capability_sets)


def requested_gpus(obj: Mapping[str, Any]) -> tuple[str, ...] | Literal["all"]:
    """GPUs a container asked for in HostConfig.DeviceRequests (`docker run --gpus`).

    "all" for Count -1; the DeviceIDs as given (indices or UUIDs); for a positive Count,
    "0".."Count-1" (what the daemon hands to the NVIDIA runtime); () when none.
    """
    host_config = obj.get("HostConfig") or {}
    requests = host_config.get("DeviceRequests") if isinstance(host_config, Mapping) else None
    devices: list[str] = []
    for request in requests or []:
        if not isinstance(request, Mapping) or not _is_gpu_request(request):
            continue
        ids = request.get("DeviceIDs") or []
        count = request.get("Count") or 0
        if ids:
            devices.extend(part.strip() for item in ids for part in str(item).split(","))
        elif isinstance(count, int) and count < 0:
            return "all"
        elif isinstance(count, int):
            devices.extend(str(index) for index in range(count))
    return tuple(dict.fromkeys(device for device in devices if device))


def _labels(config: Mapping[str, Any]) -> Mapping[str, str]:
    labels = config.get("Labels") or {}
    if not isinstance(labels, Mapping):
        return MappingProxyType({})
    # Hosts run the same images with the same labels (compose, OCI, kubelet keys and most
    # values): one copy of each text for the fleet, as for process tables (util/strpool.py).
    return MappingProxyType({share(str(key)): share(str(value)) for key, value in labels.items()})


def container_from_inspect(
    obj: Mapping[str, Any], *, now: float, owner_rule: OwnerRule = DEFAULT_RULE
) -> Container:
    """A Container from one inspect object (full JSON, SDK `attrs`, or INSPECT_TEMPLATE).

    `exit_code` is None while running and before the first start. `gpus` stays () (resolve
    requested_gpus() against the GPU list); `log_size` stays None (LogPath is in `obj`).
    Raises ValueError when `obj` is not a container (an image, garbage).
    """
    state = obj.get("State")
    container_id = obj.get("Id")
    if not isinstance(state, Mapping) or not isinstance(container_id, str):
        raise ValueError("not a container inspect object (no Id or State)")
    config = obj.get("Config") or {}
    if not isinstance(config, Mapping):
        config = {}
    name = str(obj.get("Name") or "").removeprefix("/")
    labels = _labels(config)
    status = state_name(state)
    started = parse_docker_time(state.get("StartedAt"))
    code = state.get("ExitCode")
    ran_before = started is not None and status not in ("running", "paused")
    pid = state.get("Pid")
    return Container(
        id=container_id,
        name=name,
        image=share(str(config.get("Image") or "")),
        state=status,
        status=human_status(state, now),
        owner=owner_of(labels=labels, container_name=name, rule=owner_rule),
        labels=labels,
        created=parse_docker_time(obj.get("Created")),
        started_at=started,
        finished_at=parse_docker_time(state.get("FinishedAt")),
        exit_code=code if ran_before and isinstance(code, int) else None,
        pid=pid if isinstance(pid, int) and pid > 0 else None,
    )


def docker_error(output: str, returncode: int) -> str | None:
    """None when the docker CLI succeeded; else a short, precise message for the user."""
    text = output.strip()
    if returncode == 127 or _NOT_INSTALLED.search(text):
        return "docker not installed"
    denied = _PERMISSION.search(text)
    if denied:
        dial = _DIAL_DENIED.search(text)
        socket = dial.group("socket") if dial else denied.group("socket")
        return f"permission denied on {socket} (not in the docker group?)"
    no_daemon = _NO_DAEMON.search(text)
    if no_daemon:
        address = no_daemon.group("address")
        return f"Docker daemon not running (Cannot connect to the Docker daemon at {address})"
    if returncode == 0:
        return None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first or f"docker failed (exit status {returncode})"
