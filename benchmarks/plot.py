"""The results figure: sweep latency, client CPU and remote CPU against N, all tools together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness import TOOLS, ToolResult

COLORS = {
    "clustertop": "#1b7837",
    "pdsh": "#d6604d",
    "clush": "#b2182b",
    "exec-per-tick": "#4393c3",
    "probe-one-shot": "#9970ab",
}
MARKERS = {"sshd": "o", "fake": "s"}

Panel = tuple[str, str, Callable[[ToolResult], float | None]]


PANELS: list[Panel] = [
    ("Steady-state sweep latency p50 (ms)", "log", lambda r: r.p50_ms),
    ("Client CPU (ms per host per tick)", "log", lambda r: r.client_cpu_ms),
    (
        "Remote CPU (ms per host per tick, real sshd)",
        "linear",
        lambda r: r.remote_ms if r.server == "sshd" else None,
    ),
]


def plot(results: Sequence[ToolResult], path: Path, interval: float) -> Path:
    """Draw the figure (Agg backend) to `path` (.svg or .png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(PANELS), figsize=(6 * len(PANELS), 4.8))
    for ax, panel in zip(axes, PANELS, strict=True):
        _panel(ax, panel, results, interval)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(f"clustertop vs pdsh, clush, exec-per-tick (interval {interval:g} s, same run)")
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    fig.savefig(path)
    plt.close(fig)
    return path


def _panel(ax: Any, panel: Panel, results: Sequence[ToolResult], interval: float) -> None:
    from matplotlib.ticker import FuncFormatter, NullFormatter

    title, scale, value = panel
    for tool in TOOLS:
        for server in ("sshd", "fake"):
            points = sorted(
                (r.hosts, v)
                for r in results
                if r.tool == tool and r.server == server and (v := value(r)) is not None and v > 0
            )
            if not points:
                continue
            xs, ys = zip(*points, strict=True)
            ax.plot(
                xs, ys, marker=MARKERS[server], color=COLORS[tool],
                linestyle="-" if server == "sshd" else "--",
                markerfacecolor=COLORS[tool] if server == "sshd" else "white",
                label=f"{tool} ({'real sshd' if server == 'sshd' else 'fake server'})",
            )  # fmt: skip
    if "latency" in title:
        ax.axhline(interval * 1000, color="grey", linewidth=0.8, linestyle=":")
        ax.text(
            0.01, interval * 1000 * 1.05, "tick interval", color="grey", fontsize=8,
            transform=ax.get_yaxis_transform(),
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale(scale)
    if scale == "linear":
        ax.set_ylim(bottom=0)
    ax.set_xticks(sorted({r.hosts for r in results}))
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("hosts (N)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
