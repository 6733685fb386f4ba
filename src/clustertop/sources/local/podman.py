"""Local podman containers, read only when a process runs in one (for names and labels)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from collections.abc import Iterable, Mapping

from clustertop.model import Container
from clustertop.model.attribution import PODMAN, Attribution
from clustertop.model.owners import DEFAULT_RULE, OwnerRule, owner_of
from clustertop.parsers.podman import parse_podman_ps
from clustertop.sources.local.tool_catalog import ToolCatalog, ToolFailed

PODMAN_TIMEOUT_S = 3.0
"""Longest a `podman ps` may take; a hung podman leaves the names unknown, nothing else."""

REFRESH_S = 10.0
"""A container id still unknown after a reading is looked up again at most this often."""

LIST_S = 5.0
"""The containers pane's podman list is read again at most this often (podman ps costs
about 0.1 s of CPU; Docker's list comes from its daemon's socket every tick)."""

WHICH_S = 60.0
"""How long "podman is not installed" is believed: a host without podman costs no exec."""


def podman_ids(found: Iterable[Attribution | None]) -> set[str]:
    """The podman container ids among some attributions."""
    return {a.id for a in found if a is not None and a.kind == PODMAN}


class PodmanCatalog(ToolCatalog):
    """podman's containers by id, refreshed when a process names an id not seen yet."""

    def __init__(self, command: str = "podman", owner_rule: OwnerRule = DEFAULT_RULE) -> None:
        super().__init__(command, "podman", "podman ps")
        self._owner_rule = owner_rule
        self._by_id: Mapping[str, Container] = {}
        self._path: str | None = None
        self._which_at = -WHICH_S

    @property
    def installed(self) -> bool:
        """True when podman is on PATH (looked up at most every WHICH_S seconds)."""
        now = time.monotonic()
        if now - self._which_at >= WHICH_S:
            self._path, self._which_at = shutil.which(self._command), now
        return self._path is not None

    def listing(self) -> tuple[tuple[Container, ...], str | None]:
        """Every podman container (read again when the last list is LIST_S old), and the error.

        A host without podman gives nothing and no error, and runs no program.
        """
        if not self.installed:
            return (), None
        self._read_when_due(LIST_S, self._relist)
        return (() if self.error else tuple(self._by_id.values())), self.error

    def _relist(self) -> None:
        found = self._run_tool(self._ps)
        # A failed list keeps the names for attribution, but lists nothing.
        self._by_id = self._by_id if found is None else found

    @property
    def containers(self) -> Mapping[str, Container]:
        """The containers of the last reading, by id."""
        return self._by_id

    def want(self, ids: Iterable[str]) -> None:
        """Make sure these container ids are looked up (runs podman ps when one is new)."""
        if any(i and i not in self._by_id for i in ids):
            self._read_when_due(REFRESH_S, self._refresh)

    def _refresh(self) -> None:
        self._by_id = self._run_tool(self._ps) or self._by_id

    def _ps(self, path: str) -> dict[str, Container]:
        done = subprocess.run(
            [path, "ps", "--all", "--format", "json"],
            capture_output=True, timeout=PODMAN_TIMEOUT_S, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            found = parse_podman_ps(done.stdout.decode("utf-8", "replace"))
        except ValueError as exc:
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ToolFailed(err[-1] if err else str(exc)) from None
        return {c.id: self._owned(c) for c in found}

    def _owned(self, container: Container) -> Container:
        owner = owner_of(
            labels=container.labels, container_name=container.name, rule=self._owner_rule
        )
        return dataclasses.replace(container, owner=owner)
