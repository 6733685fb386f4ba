"""What the local catalogs that run a tool (podman ps, scontrol) share: throttled runs, an error."""

from __future__ import annotations

import math
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class ToolFailed(Exception):
    """A tool ran but gave nothing usable; the message says why in one line."""


class ToolCatalog:
    """A catalog read from a local tool: a reading starts at most so often and one thread at a
    time, and `error` keeps why the tool's last run failed."""

    def __init__(self, command: str, name: str, label: str) -> None:
        self._command = command
        self._name = name
        self._label = label
        self._lock = threading.Lock()
        self._started = -math.inf
        self.error: str | None = None
        """Why the tool's last run failed (None: it worked or never ran)."""

    def _due(self, every: float) -> bool:
        """True when the last reading started `every` seconds ago or more (or never did)."""
        return time.monotonic() - self._started >= every

    def _start(self) -> None:
        self._started = time.monotonic()

    def _read_when_due(self, every: float, read: Callable[[], None]) -> None:
        """`read()` when due; under the lock, so one thread of many reads and the others wait
        for it, then find the reading fresh."""
        if self._due(every):
            with self._lock:
                if self._due(every):
                    self._start()
                    read()

    def _run_tool(self, fetch: Callable[[str], T]) -> T | None:
        """`fetch(path of the tool)`; None, with `error` saying why, when the tool is not on
        PATH, gives no answer in time, cannot run or gives nothing usable (ToolFailed)."""
        path = shutil.which(self._command)
        if path is None:
            self.error = f"{self._name} not found"
            return None
        try:
            found = fetch(path)
        except subprocess.TimeoutExpired as exc:
            self.error = f"{self._label}: no answer within {exc.timeout:g} s"
            return None
        except OSError as exc:
            self.error = f"{self._label}: {exc.strerror or exc}"
            return None
        except ToolFailed as exc:
            self.error = str(exc)
            return None
        self.error = None
        return found
