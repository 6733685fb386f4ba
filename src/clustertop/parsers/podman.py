"""`podman ps --all --format json` (podman 3-5) to Container objects, and conmon's argv."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from clustertop.model import EMPTY_LABELS, Container

_ID = re.compile(r"^[0-9a-f]{64}$")
_UNSET = -62135596800  # Go's zero time as a Unix time: "never exited"


def _labels(value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict) or not value:
        return EMPTY_LABELS
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _time(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _one(item: Any) -> Container | None:
    if not isinstance(item, dict) or not _ID.match(str(item.get("Id", ""))):
        return None
    names = item.get("Names")
    name = str(names[0]) if isinstance(names, list) and names else ""
    pid = item.get("Pid")
    exited_at = item.get("ExitedAt")
    return Container(
        id=str(item["Id"]),
        name=name,
        image=str(item.get("Image") or ""),
        state=str(item.get("State") or ""),
        status=str(item.get("Status") or ""),
        labels=_labels(item.get("Labels")),
        created=_time(item.get("Created")),
        started_at=_time(item.get("StartedAt")),
        finished_at=_time(exited_at) if exited_at != _UNSET else None,
        exit_code=item.get("ExitCode") if isinstance(item.get("ExitCode"), int) else None,
        pid=pid if isinstance(pid, int) and pid > 0 else None,
        engine="podman",
    )


def parse_podman_ps(text: str) -> list[Container]:
    """Containers from podman's JSON list; ValueError when it is not one."""
    try:
        data = json.loads(text[text.find("[") :] if "[" in text else text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"podman ps: not JSON ({exc.msg})") from exc
    if not isinstance(data, list):
        raise ValueError("podman ps: not a JSON list")
    return [c for item in data if (c := _one(item)) is not None]


def conmon_container(argv: list[str]) -> tuple[str, str] | None:
    """(container id, name) from a conmon command line (`-c <id> ... -n <name>`), else None."""
    if not argv or not argv[0].endswith("conmon"):
        return None
    found: dict[str, str] = {}
    for flag, value in itertools.pairwise(argv):
        if flag in ("-c", "--cid"):
            found.setdefault("c", value)
        elif flag in ("-n", "--name"):
            found.setdefault("n", value)
    cid = found.get("c", "")
    return (cid, found.get("n", "")) if _ID.match(cid) else None
