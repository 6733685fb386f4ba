"""The podman part of the probe's docker section (protocol.md): `podman ps -a --format json`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from clustertop.model import Container
from clustertop.model.owners import OwnerRule, owner_of
from clustertop.parsers.podman import parse_podman_ps

PART = "podman"
"""The part's name: podman's output, then one last line with its exit status."""


@dataclasses.dataclass(frozen=True, slots=True)
class PodmanReading:
    """podman's containers on one host, or why they could not be listed."""

    containers: tuple[Container, ...] = ()
    """Every podman container (engine "podman"), owners by the rule."""
    error: str | None = None
    """Why podman ps failed (None: listed)."""


def _status(lines: list[str]) -> tuple[int | None, list[str]]:
    """The exit status on the part's last line (`@rc N`), and the lines before it."""
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].startswith("@rc "):
        word = lines.pop()[4:].strip()
        return (int(word) if word.isdigit() else None), lines
    return None, lines


def _error(text: str, status: int | None) -> str:
    last = next((line.strip() for line in reversed(text.split("\n")) if line.strip()), "")
    if status is None:
        return "podman ps: output cut short (no exit status)"
    if status == 124:
        return "podman ps: no answer in time"
    return f"podman ps: {last[:300]}" if last else f"podman ps failed (exit status {status})"


def read_podman(parts: Mapping[str, str], rule: OwnerRule) -> PodmanReading | None:
    """The podman part; None when the host has no podman (the probe sends no part then)."""
    if PART not in parts:
        return None
    status, lines = _status(parts[PART].split("\n"))
    text = "\n".join(lines)
    if status != 0:
        return PodmanReading(error=_error(text, status))
    try:
        found = parse_podman_ps(text)
    except ValueError as exc:
        return PodmanReading(error=str(exc))
    owned = tuple(
        dataclasses.replace(c, owner=owner_of(labels=c.labels, container_name=c.name, rule=rule))
        for c in found
    )
    return PodmanReading(owned)
