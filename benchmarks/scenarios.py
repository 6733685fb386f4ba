"""One fleet size: run clustertop and each peer in turn against the same hosts, same settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import RemoteSample, Run, ToolResult, python_module
from benchmarks.ticks import Window

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
        "benchmarks.peer_cmd", "--tool", tool, *common, "--command", target.command
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
