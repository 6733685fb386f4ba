"""Runs one tool's runner process, follows its events, samples remote CPU and client memory."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
RSS_SAMPLE_S = 0.2

RemoteSample = Callable[[], tuple[list[int], int]]
"""Returns (CPU ns per host so far, stand-in CPU ns so far)."""


@dataclass
class ToolResult:
    """Every figure of one tool at one fleet size."""

    tool: str
    """clustertop, pdsh, clush or exec-per-tick."""
    hosts: int
    """Fleet size N."""
    server: str
    """"sshd" (real OpenSSH) or "fake" (the lightweight simulated host server)."""
    cold_s: float | None = None
    """Seconds from starting the tool until every host had data."""
    window: dict[str, Any] = field(default_factory=dict)
    """The runner's window_end event: sweeps, latencies, CPU, memory, data check."""
    client_cpu_ms: float | None = None
    """Client CPU milliseconds per host per tick (tool and its child processes)."""
    client_rss_mb: float | None = None
    """Peak resident memory (MB, 10^6 bytes) of the tool's whole process tree during the run."""
    remote_ms: float | None = None
    """Remote CPU ms per host per tick: all processes of the host's SSH sessions."""
    remote_max_ms: float | None = None
    """The same for the busiest host."""
    standin_ms: float | None = None
    """CPU ms per host per tick of the nvidia-smi/docker stand-ins (reported apart)."""
    error: str | None = None
    """Why figures are missing."""
    wall_s: float = 0.0
    """How long the run took."""
    cancel_rounds: int | None = None
    """clustertop only: cancellation rounds its SshSource needed to stop (1 = clean)."""
    progress: dict[str, Any] = field(default_factory=dict)
    """clustertop only: its last progress report (hosts with data, memory), kept on failure."""

    @property
    def p50_ms(self) -> float | None:
        """Median sweep latency."""
        return self.window.get("p50_ms")

    @property
    def p95_ms(self) -> float | None:
        """95th percentile sweep latency."""
        return self.window.get("p95_ms")

    def as_dict(self) -> dict[str, Any]:
        """Plain data for results.json."""
        return dict(self.__dict__)


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (0 once gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


class Run:
    """One runner process and what the harness learns from it."""

    def __init__(self, result: ToolResult, argv: list[str], remote: RemoteSample | None) -> None:
        self.result = result
        """Filled in as events arrive."""
        self._argv = argv
        self._remote = remote
        self._remote_start: tuple[list[int], int] | None = None
        self._peak_rss = 0

    def execute(self, timeout: float, log: Path) -> ToolResult:
        """Run to the end (bounded); the result, with `error` set when figures are missing."""
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with log.open("ab") as err:
            proc = subprocess.Popen(
                self._argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=err
            )
            try:
                self._follow(proc, started, timeout)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait(timeout=30)
        self.result.wall_s = time.monotonic() - started
        if self.result.client_rss_mb is None and self._peak_rss:
            self.result.client_rss_mb = self._peak_rss / 1e6  # still reported when it failed
        if not self.result.window and not self.result.error:
            self.result.error = f"runner ended without a measuring window (see {log.name})"
        return self.result

    def _follow(self, proc: subprocess.Popen[bytes], started: float, timeout: float) -> None:
        assert proc.stdout is not None
        buffer = b""
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            next_rss = 0.0
            while time.monotonic() - started < timeout:
                if time.monotonic() >= next_rss:
                    self._peak_rss = max(self._peak_rss, tree_rss(proc.pid))
                    next_rss = time.monotonic() + RSS_SAMPLE_S
                if not sel.select(timeout=RSS_SAMPLE_S):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    self._event(json.loads(line), started)
            self.result.error = f"timed out after {timeout:g} s"

    def _event(self, event: dict[str, Any], started: float) -> None:
        kind = event["ev"]
        if kind == "cold":
            self.result.cold_s = event["at"] - started
        elif kind == "window_start" and self._remote is not None:
            self._remote_start = self._remote()
        elif kind == "window_end":
            self._window_end(event)
        elif kind == "progress":
            self.result.progress = event
        elif kind == "stopped":
            self.result.cancel_rounds = event.get("cancel_rounds")
        elif kind == "error":
            self.result.error = str(event.get("message"))

    def _window_end(self, event: dict[str, Any]) -> None:
        result = self.result
        result.window = event
        # Per frame that arrived: a tool that fell behind is not flattered by skipped ticks.
        per = max(1, event.get("frames") or event["hosts"] * event["ticks"])
        result.client_cpu_ms = 1000.0 * event["cpu_s"] / per
        result.client_rss_mb = self._peak_rss / 1e6
        if self._remote is None or self._remote_start is None:
            return
        hosts_end, standin_end = self._remote()
        hosts_start, standin_start = self._remote_start
        deltas = [b - a for a, b in zip(hosts_start, hosts_end, strict=True)]
        result.remote_ms = sum(deltas) / 1e6 / per
        if len(deltas) == event["hosts"]:
            per_host = max(1.0, per / event["hosts"])
            result.remote_max_ms = max(deltas) / 1e6 / per_host
        result.standin_ms = (standin_end - standin_start) / 1e6 / per


def python_module(module: str, *args: str) -> list[str]:
    """argv running a benchmarks module with this interpreter."""
    return [sys.executable, "-m", module, *args]
