"""Local podman containers, read only when a process runs in one (for names and labels)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping

from clustertop.model import Container
from clustertop.model.attribution import PODMAN, Attribution
from clustertop.parsers.podman import parse_podman_ps

PODMAN_TIMEOUT_S = 3.0
"""Longest a `podman ps` may take; a hung podman leaves the names unknown, nothing else."""

REFRESH_S = 10.0
"""A container id still unknown after a reading is looked up again at most this often."""


def podman_ids(found: Iterable[Attribution | None]) -> set[str]:
    """The podman container ids among some attributions."""
    return {a.id for a in found if a is not None and a.kind == PODMAN}


class PodmanCatalog:
    """podman's containers by id, refreshed when a process names an id not seen yet."""

    def __init__(self, command: str = "podman") -> None:
        self._command = command
        self._by_id: Mapping[str, Container] = {}
        self._last = -REFRESH_S
        self._lock = threading.Lock()
        self.error: str | None = None
        """Why the last `podman ps` failed (None: it worked or never ran)."""

    @property
    def containers(self) -> Mapping[str, Container]:
        """The containers of the last reading, by id."""
        return self._by_id

    def want(self, ids: Iterable[str]) -> None:
        """Make sure these container ids are looked up (runs podman ps when one is new)."""
        missing = {i for i in ids if i and i not in self._by_id}
        if not missing or time.monotonic() - self._last < REFRESH_S:
            return
        with self._lock:
            if time.monotonic() - self._last < REFRESH_S:
                return
            self._last = time.monotonic()
            self._by_id = self._read() or self._by_id

    def _read(self) -> dict[str, Container] | None:
        path = shutil.which(self._command)
        if path is None:
            self.error = "podman not found"
            return None
        try:
            done = subprocess.run(
                [path, "ps", "--all", "--format", "json"],
                capture_output=True, timeout=PODMAN_TIMEOUT_S, check=False,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            self.error = f"podman ps: no answer within {PODMAN_TIMEOUT_S:g} s"
            return None
        except OSError as exc:
            self.error = f"podman ps: {exc.strerror or exc}"
            return None
        text = done.stdout.decode("utf-8", "replace")
        try:
            found = parse_podman_ps(text)
        except ValueError as exc:
            err = done.stderr.decode("utf-8", "replace").strip().splitlines()
            self.error = err[-1] if err else str(exc)
            return None
        self.error = None
        return {c.id: c for c in found}
