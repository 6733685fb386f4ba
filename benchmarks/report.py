"""Writes RESULTS.md: targets, machine, method, one table per fleet size, ratios, saturation."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchmarks.harness import TOOLS, ToolResult
from benchmarks.targets import ANALYSIS, Verdict

OTHER_RESULTS = (
    "Measured by their own scripts: the grid table against Textual's DataTable and "
    "textual-fastdatatable in [TABLES.md](TABLES.md) (`python -m benchmarks.table_bench`), "
    "1,000 silent hosts in [../RELIABILITY.md](../RELIABILITY.md) (`python -m benchmarks.silent`)."
)
"""Where the benchmarks that are not part of this run keep their figures."""

SERVER_LABEL = {
    "sshd": "real OpenSSH servers (one sshd per loopback address, stand-in nvidia-smi/docker)",
    "fake": "lightweight simulated-host server (one asyncssh process replaying a real frame)",
}


@dataclass(frozen=True)
class RunInfo:
    """Facts about the run itself."""

    command: str
    """The exact command line."""
    started_utc: str
    """When it started."""
    wall_s: float
    """How long it took."""
    machine: dict[str, str]
    """Machine and software description."""
    load_before: str
    """Load averages before the run."""
    load_after: str
    """Load averages after the run."""
    interval: float
    """Tick interval."""
    notes: Sequence[str] = ()
    """Anything that went wrong or was skipped."""
    frame_bytes: dict[str, float] = field(default_factory=dict)
    """Sizes of the recorded probe frames and of the peers' output."""
    peer_command: str = ""
    """The plain command pdsh, clush and exec-per-tick run on every host every tick."""


def _f(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def _ratio(peer: float | None, ours: float | None) -> str:
    if peer is None or ours is None or ours <= 0:
        return "-"
    return f"{peer / ours:.1f}x"


def _met(verdict: Verdict) -> str:
    return {True: "**met**", False: "**not met**", None: "not measured"}[verdict.met]


def targets_section(verdicts: Sequence[Verdict]) -> list[str]:
    """The pass/fail table."""
    lines = ["## Targets (interval 2 s, this 2-core machine)", ""]
    lines += ["| target | measured | result | reason |", "| --- | --- | --- | --- |"]
    lines += [f"| {v.target} | {v.measured} | {_met(v)} | {v.reason} |" for v in verdicts]
    return [*lines, ""]


def machine_section(info: RunInfo) -> list[str]:
    """Machine, software and load."""
    lines = ["## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in info.machine.items()]
    lines += [
        f"| Load average before / after | {info.load_before} / {info.load_after} "
        "(the machine is shared; other work was running) |",
        "",
    ]
    return lines


def _row(r: ToolResult, ours: ToolResult | None) -> str:
    w = r.window
    sweeps = f"{w.get('sweeps', 0)}/{w.get('late', 0)}/{w.get('incomplete', 0)}" if w else "-"
    ratios = "-"
    if ours is not None and r is not ours:
        ratios = " / ".join(
            [
                _ratio(r.p50_ms, ours.p50_ms),
                _ratio(r.client_cpu_ms, ours.client_cpu_ms),
                _ratio(r.remote_ms, ours.remote_ms) if r.server == "sshd" else "-",
            ]
        )
    remote = _f(r.remote_ms, ".2f") if r.server == "sshd" else f"({_f(r.remote_ms, '.2f')})"
    error = f" ({r.error})" if r.error else ""
    cells = [
        f"{r.tool}{error}",
        _f(r.cold_s, ".2f"),
        _f(r.p50_ms, ".0f"),
        _f(r.p95_ms, ".0f"),
        sweeps,
        _f(r.client_cpu_ms, ".2f"),
        _f(r.client_rss_mb, ".0f"),
        remote,
        _f(r.remote_max_ms, ".2f"),
        _f(r.standin_ms, ".2f") if r.server == "sshd" else "-",
        ratios,
    ]
    return "| " + " | ".join(cells) + " |"


TABLE_HEAD = [
    "| tool | cold start (s) | sweep p50 (ms) | sweep p95 (ms) | sweeps ok/late/incomplete "
    "| client CPU (ms/host/tick) | client RSS peak (MB) | remote CPU (ms/host/tick) "
    "| busiest host (ms/tick) | stand-ins (ms/host/tick) | peer / clustertop: latency p50 / "
    "client CPU / remote CPU |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
]


def results_section(results: Sequence[ToolResult], interval: float) -> list[str]:
    """One table per (server, N), tools in the standard order."""
    lines = ["## Results per fleet size", ""]
    for server, n in sorted(
        {(r.server, r.hosts) for r in results}, key=lambda k: (k[0] != "sshd", k[1])
    ):
        rows = [
            r for t in TOOLS for r in results if r.tool == t and r.server == server and r.hosts == n
        ]
        ours = next((r for r in rows if r.tool == "clustertop"), None)
        lines += [f"### N = {n}: {SERVER_LABEL[server]}", "", *TABLE_HEAD]
        lines += [_row(r, ours) for r in rows]
        lines += ["", *_saturation(rows, n, interval), ""]
    if any(r.server == "fake" for r in results):
        lines += [
            "Remote CPU in parentheses (fake-server tables) is the simulated-host server process's "
            "own CPU per host per tick: it measures the replay server, not a host, and is not "
            "comparable with the real-sshd figures.",
            "",
        ]
    return lines


def _saturation(rows: Sequence[ToolResult], n: int, interval: float) -> list[str]:
    cores = os.cpu_count() or 1
    parts = []
    for r in rows:
        if r.remote_ms is None or r.server != "sshd":
            continue
        demand = (r.remote_ms + (r.standin_ms or 0.0)) * n / (interval * 1000.0)
        parts.append(f"{r.tool} {demand:.2f}")
    if not parts:
        return []
    return [
        f"Remote demand in cores (remote + stand-in CPU x N / interval; the machine has {cores}, "
        f"shared with the clients): " + ", ".join(parts) + "."
    ]


def tui_section(tui: dict[str, Any] | None) -> list[str]:
    """Keypress-to-repaint figures."""
    lines = ["## TUI keypress-to-repaint (headless)", ""]
    if not tui or tui.get("p95_ms") is None:
        return [*lines, f"Not measured: {(tui or {}).get('error', 'skipped')}", ""]
    lines += [
        "| hosts updating | interval (s) | keys pressed | missed | p50 (ms) | p95 (ms) | max (ms) "
        "| TUI process peak RSS (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {tui['hosts']} | {tui['interval']:g} | {tui['presses']} | {tui['missed']} "
        f"| {_f(tui['p50_ms'], '.0f')} | {_f(tui['p95_ms'], '.0f')} | {_f(tui['max_ms'], '.0f')} "
        f"| {tui['hwm_kib'] / 1000:.0f} |",
        "",
    ]
    return lines


def render(
    info: RunInfo,
    verdicts: Sequence[Verdict],
    results: Sequence[ToolResult],
    tui: dict[str, Any] | None,
    method: str,
) -> str:
    """The whole RESULTS.md."""
    head = [
        "# clustertop benchmark results",
        "",
        f"Produced by `{info.command}` (started {info.started_utc}, took "
        f"{info.wall_s / 60:.1f} min). Everything below was measured in that one run. Plot: "
        f"`results.svg`; raw data: `results.json`; how the targets were reached and why any "
        f"is not, with profiles: [{ANALYSIS}]({ANALYSIS}).",
        "",
        OTHER_RESULTS,
        "",
    ]
    notes = (
        ["## Notes from this run", "", *[f"- {n}" for n in info.notes], ""] if info.notes else []
    )
    body = [
        *targets_section(verdicts),
        *results_section(results, info.interval),
        *tui_section(tui),
        *machine_section(info),
        method.strip(),
        "",
        *(notes if info.notes else []),
    ]
    return "\n".join([*head, *body])
