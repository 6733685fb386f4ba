"""Runs each tool's runner at one fleet size, following its events, remote CPU and client memory."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.ticks import Window

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
    cold_cpu_s: float | None = None
    """CPU seconds the tool's process had used when every host had data (its cold event)."""

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

    def __init__(
        self,
        result: ToolResult,
        argv: list[str],
        remote: RemoteSample | None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.result = result
        """Filled in as events arrive."""
        self._argv = argv
        self._env = env
        self._remote = remote
        self._remote_start: tuple[list[int], int] | None = None
        self._peak_rss = 0

    def execute(self, timeout: float, log: Path) -> ToolResult:
        """Run to the end (bounded); the result, with `error` set when figures are missing."""
        started = time.monotonic()
        env = self._env if self._env is not None else python_env()
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
            self.result.cold_cpu_s = event.get("cpu_s")
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


def python_env() -> dict[str, str]:
    """Environment of a benchmark process: this tree's benchmarks and its clustertop (src/).

    Without src/ a process would import whichever clustertop the venv has installed (an
    editable install may point at another checkout), not the code being measured.
    """
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])}


def python_module(module: str, *args: str) -> list[str]:
    """argv running a benchmarks module with this interpreter."""
    return [sys.executable, "-m", module, *args]


TOOLS = ("clustertop", "pdsh", "clush", "exec-per-tick", "probe-one-shot")
"""Every tool, in the order they run and are shown."""
FAN_OUT_TOOLS = ("pdsh", "clush")
"""Tools that connect afresh every sweep (their first sweep is their cold start)."""
REFERENCE_TOOLS = ("probe-one-shot",)
"""Not a peer: clustertop's own probe started afresh every tick, run on real sshd only."""


@dataclass(frozen=True)
class Settings:
    """What every tool shares at one fleet size."""

    interval: float = 2.0
    """Seconds between ticks."""
    window: Window = field(default_factory=lambda: Window(warmup=2, count=8))
    """Window of the tools that keep connections (clustertop, exec-per-tick), fake hosts."""
    sshd_window: Window = field(default_factory=lambda: Window(warmup=2, count=30))
    """The same on real sshd, where remote CPU is measured: 30 ticks hold a whole cycle of the
    probe's cadences (df every 10 ticks, full process scan and containers every 30), so its
    per-tick figure is their true average rather than depending on where the window falls."""
    fan_out_window: Window = field(
        default_factory=lambda: Window(warmup=0, count=10, min_count=1, max_s=20.0)
    )
    """Window of pdsh and clush: no warm-up (every sweep starts cold), capped in time."""
    timeout: float = 240.0
    """Hard limit of one tool's run, seconds."""
    cold_timeout: float = 120.0
    """clustertop: give up (and report how far it got) when not every host has data by then."""


@dataclass(frozen=True)
class Target:
    """The hosts to run against and how to reach them."""

    hosts: Sequence[str]
    """Host names (loopback addresses)."""
    ssh_config: Path
    """Client ssh_config (port, user, key, known_hosts)."""
    known_hosts: Path
    """Trusted host keys."""
    command: str
    """The peers' remote command each tick."""
    server: str
    """"sshd" or "fake"."""
    remote: RemoteSample | None
    """Remote CPU sampler (None: not measurable)."""


def _window_argv(window: Window) -> list[str]:
    return [
        "--warmup-ticks", str(window.warmup),
        "--ticks", str(window.count),
        "--min-ticks", str(window.min_count),
        "--max-window-s", str(window.max_s),
    ]  # fmt: skip


def runner_argv(tool: str, hosts_file: Path, target: Target, settings: Settings) -> list[str]:
    """The runner process of `tool`."""
    if tool in FAN_OUT_TOOLS:
        window = settings.fan_out_window
    else:
        window = settings.sshd_window if target.server == "sshd" else settings.window
    common = [
        "--hosts-file", str(hosts_file),
        "--ssh-config", str(target.ssh_config),
        "--interval", str(settings.interval),
        "--timeout", str(settings.timeout - 10),
        *_window_argv(window),
    ]  # fmt: skip
    if tool == "clustertop":
        return python_module(
            "benchmarks.ct_driver", *common, "--cold-timeout", str(settings.cold_timeout)
        )
    if tool in ("exec-per-tick", "probe-one-shot"):
        what = ["--command", target.command] if tool == "exec-per-tick" else ["--probe-one-shot"]
        return python_module(
            "benchmarks.peer_exec",
            *common,
            "--known-hosts", str(target.known_hosts),
            *what,
        )  # fmt: skip
    return python_module(
        "benchmarks.peer_command", "--tool", tool, *common, "--command", target.command
    )


def run_size(  # noqa: PLR0917 - the size's inputs, all needed
    target: Target,
    settings: Settings,
    tools: Sequence[str],
    workdir: Path,
    between: Callable[[], None] = lambda: None,
    progress: Callable[[str], None] = print,
) -> list[ToolResult]:
    """Every tool in turn at this fleet size; `between` cleans up after each."""
    n = len(target.hosts)
    hosts_file = workdir / f"hosts-{target.server}-{n}.txt"
    hosts_file.write_text("".join(h + "\n" for h in target.hosts))
    results = []
    for tool in tools:
        if tool in REFERENCE_TOOLS and target.server != "sshd":
            continue  # it measures remote CPU, which only a real sshd shows
        argv = runner_argv(tool, hosts_file, target, settings)
        run = Run(ToolResult(tool, n, target.server), argv, target.remote)
        log = workdir / f"{tool}-{target.server}-{n}.log"
        result = run.execute(settings.timeout, log)
        progress(summary_line(result))
        results.append(result)
        between()
        time.sleep(min(1.0, settings.interval))  # let the last sessions' teardown finish
    return results


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def summary_line(r: ToolResult) -> str:
    """One progress line for the console."""
    return (
        f"  {r.server:5} N={r.hosts:<5} {r.tool:14} cold {_fmt(r.cold_s, '.2f')} s  "
        f"p50 {_fmt(r.p50_ms, '.0f')} p95 {_fmt(r.p95_ms, '.0f')} ms  "
        f"client {_fmt(r.client_cpu_ms, '.2f')} ms/host/tick  "
        f"rss {_fmt(r.client_rss_mb, '.0f')} MB  "
        f"remote {_fmt(r.remote_ms, '.2f')} ms/host/tick"
        + (f"  ERROR {r.error}" if r.error else "")
    )
