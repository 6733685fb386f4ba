"""Where an idle clustertop TUI's CPU goes: py-spy samples sorted into repaints, timers, SSH..."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RATE = 500
"""Samples per second: the process is busy ~1-3 % of the time, so a high rate for enough samples."""

CATEGORIES = [
    (r"_compositor\.py:render_segments|textual/drivers/|app\.py:_display", "terminal output"),
    (r"ui/widgets/charts\.py|sparkline|grid_analysis\.py", "sparklines and trend column"),
    (r"ui/columns\.py|ui/widgets/cells\.py|ui/screens/grid\.py", "grid rows and summary (ours)"),
    (r"table_sync\.py|fast_table\.py|_data_table\.py", "table sync and render"),
    (r"textual/widgets/_(header|footer|static|input)|ui/widgets/footer", "header/footer/static"),
    (r"textual/(_compositor|_arrange|_layout|layouts/|_styles_cache|strip)", "compositor"),
    (r"textual/(css|dom)", "CSS and DOM"),
    (r"textual/timer\.py", "timers"),
    (r"asyncssh/", "SSH transport (asyncssh)"),
    (r"sources/ssh/(probe|assemble|sections)|clustertop/parsers/", "frame parsing and assembly"),
    (r"sources/", "source (sessions, scheduling)"),
    (r"clustertop/analysis/", "analysis (alerts, history)"),
    (r"clustertop/store/|recorder", "history recording"),
    (r"ui/app\.py|ui/store\.py|ui/context\.py", "app: receive, store, schedule"),
    (r"textual/(message_pump|app|screen|widget|message)\.py", "Textual events and refresh"),
]
"""Stack frame pattern -> part; a sample goes to the innermost frame matching any pattern."""
_FRAME = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def _spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    spy = str(Path(sys.executable).with_name("py-spy"))
    argv = [spy, "record", "--nonblocking", "-r", str(RATE), "-f", "raw", "-o", str(out)]
    argv += ["-d", f"{seconds:g}", "-p", str(pid)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def profile(targets: Sequence[tuple[str, int, dict[str, Any]]], seconds: float, work: Path) -> None:
    """Sample every (label, pid) for `seconds` at once; fills each dict with its summary."""
    spies = [(result, work / f"{label}.raw", _spy(pid, work / f"{label}.raw", seconds))
             for label, pid, result in targets]  # fmt: skip
    deadline = time.monotonic() + seconds + 60
    for result, raw, spy in spies:
        try:
            _, err = spy.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile on Ctrl-C
            _, err = spy.communicate(timeout=60)
        if raw.exists():
            result.update(summarize(raw.read_text(), seconds))
        else:
            result["error"] = err.decode(errors="replace")[-500:]


def summarize(raw: str, seconds: float) -> dict[str, Any]:
    """Samples per part, the busiest functions by own and by total time."""
    parts: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        frames = [_FRAME.sub(r"\2:\1", f) for f in stack.split(";") if not f.startswith("thread")]
        if not frames or _waiting(frames[-1]) or "_worker (concurrent/futures" in stack:
            continue  # a thread waiting (py-spy's idle test misses some), idle executor threads
        samples += count
        parts[_category(frames)] += count
        own[_short(frames[-1])] += count
        for name in {_short(f) for f in frames}:
            total[name] += count
    return {
        "samples": samples,
        "busy_ms_per_s": round(1000 * samples / RATE / seconds, 2),
        "parts": parts.most_common(),
        "own": own.most_common(15),
        "total": [(n, c) for n, c in total.most_common(60) if _interesting(n)][:20],
    }


def _waiting(leaf: str) -> bool:
    return bool(re.search(r"threading\.py:.*wait|selectors\.py:.*select|queue\.py:.*get", leaf))


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for pattern, name in CATEGORIES:
            if re.search(pattern, frame):
                return name
    return "event loop and interpreter"


def _short(frame: str) -> str:
    """'.../site-packages/textual/strip.py:crop' -> 'textual/strip.py:crop'."""
    for root in ("site-packages/", "/src/"):
        if root in frame:
            return frame.rsplit(root, 1)[1]
    return re.sub(r"^.*/lib/python3\.\d+/", "", frame)


def _interesting(name: str) -> bool:
    generic = ("asyncio/", "runpy.py", "threading.py", "__main__", "textual/app.py:run", "main.py")
    return not any(g in name for g in generic)


def markdown(label: str, result: dict[str, Any]) -> list[str]:
    """A section of IDLE.md for one profiled subject."""
    if "error" in result:
        return [f"## Profile of {label}", "", f"py-spy failed: `{result['error']}`"]
    samples = max(1, result["samples"])
    lines = [
        f"## Where {label}'s time goes (py-spy, {RATE} Hz, non-idle samples)",
        "",
        f"{result['samples']} busy samples, about {result['busy_ms_per_s']} ms busy per second "
        "(sampling adds a little of its own).",
        "",
        "| part | share |",
        "| --- | ---: |",
    ]
    lines += [f"| {name} | {100 * n / samples:.1f} % |" for name, n in result["parts"]]
    lines += ["", "Busiest functions, by total time (the function and what it calls):", ""]
    lines += [f"- {100 * n / samples:.1f} % `{name}`" for name, n in result["total"]]
    lines += ["", "Busiest functions, by own time:", ""]
    lines += [f"- {100 * n / samples:.1f} % `{name}`" for name, n in result["own"]]
    return lines


def parts(path: Path, start: float, end: float) -> list[tuple[str, float, float]]:
    """(part, ms of main-thread CPU per second, calls per second) over the lines of
    benchmarks/idle_parts' output written between `start` and `end` (monotonic)."""
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    inside = [line for line in lines if start <= line["monotonic"][0] <= end]
    if len(inside) < 2:
        return []
    first, last = inside[0], inside[-1]
    seconds = last["monotonic"][0] - first["monotonic"][0]
    result = []
    for name, (cpu, calls) in last.items():
        if name != "monotonic":
            cpu0, calls0 = first.get(name, [0.0, 0])
            result.append((name, 1000 * (cpu - cpu0) / seconds, (calls - calls0) / seconds))
    return sorted(result, key=lambda part: -part[1])


def parts_markdown(label: str, found: Sequence[tuple[str, float, float]]) -> list[str]:
    """A section of IDLE.md: main-thread CPU per part of one subject."""
    main = next((ms for name, ms, _ in found if name == "main thread"), 0.0) or 1.0
    lines = [
        f"## {label}: main-thread CPU per part (thread_time around each entry point)",
        "",
        "| part | CPU ms per second | share of the main thread | calls per second | ms per call |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    accounted = 0.0
    for name, ms, calls in found:
        if name == "main thread":
            continue
        accounted += ms
        per_call = f"{ms / calls:.2f}" if calls else ""
        lines.append(f"| {name} | {ms:.2f} | {100 * ms / main:.0f} % | {calls:.1f} | {per_call} |")
    rest = main - accounted
    lines.append(f"| rest (event loop, Textual messages, SSH tasks, timers) | {rest:.2f} | "
                 f"{100 * rest / main:.0f} % | | |")  # fmt: skip
    lines.append(f"| **main thread in all** | {main:.2f} | 100 % | | |")
    return lines


CPROFILE_PARTS = [
    ("textual/screen.py", "_compositor_refresh", "compositor pass (draw and write changed lines)"),
    ("clustertop/ui/widgets/fast_table.py", "_render_line", "- of it, grid rows drawn"),
    ("clustertop/ui/app.py", "_repaint", "grid rows and table sync (_repaint)"),
    ("clustertop/ui/columns.py", "host_row", "- of it, a host's cells"),
    ("clustertop/ui/widgets/table_sync.py", "sync", "- of it, table sync"),
    ("clustertop/sources/ssh/session.py", "_frames", "SSH frames (ask, read, parse, assemble)"),
    ("clustertop/util/aio.py", "within", "- of it, reading a frame (asyncssh readuntil)"),
    ("asyncssh/stream.py", "write", "- of it, asking for a frame (asyncssh write)"),
    ("clustertop/sources/ssh/probe.py", "parse_frame", "- of it, frame parse"),
    ("clustertop/sources/ssh/assemble.py", "apply", "- of it, snapshot assembly"),
    ("clustertop/ui/app.py", "_receive", "- of it, store, analysis and history recorder"),
]  # fmt: skip
"""(file ending, function, part): cumulative CPU of one entry point (cProfile)."""


def cprofile_summary(path: Path, seconds: float) -> dict[str, Any]:
    """Main-thread CPU per entry point and the busiest functions by own time (cProfile stats)."""
    import pstats

    stats: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(tt for _, _, tt, _, _ in stats.values()) or 1.0
    parts = []
    for ending, function, part in CPROFILE_PARTS:
        found = [v for (f, _, name), v in stats.items() if name == function and f.endswith(ending)]
        parts.append((part, sum(v[3] for v in found), sum(v[1] for v in found)))
    own = sorted(stats.items(), key=lambda item: -item[1][2])[:15]
    return {
        "seconds": seconds,
        "total_s": total,
        "parts": parts,
        "own": [(f"{_short(f)}:{name}", v[2], v[1]) for (f, _, name), v in own],
    }


def cprofile_markdown(label: str, found: dict[str, Any]) -> list[str]:
    """A section of IDLE.md: where one subject's main-thread CPU goes, by cProfile."""
    total, seconds = found["total_s"], found["seconds"]
    lines = [
        f"## Where {label}'s main-thread CPU goes (cProfile, thread CPU time)",
        "",
        f"{seconds:g} s window after the others; {1000 * total / seconds:.1f} ms of CPU per second "
        "under the profiler, which slows Python code several times over (more so code of many "
        "small calls): shares, not absolute costs.",
        "",
        "| part | share | calls per second |",
        "| --- | ---: | ---: |",
    ]
    for part, cumulative, calls in found["parts"]:
        lines.append(f"| {part} | {100 * cumulative / total:.1f} % | {calls / seconds:.1f} |")
    lines += ["", "Busiest functions, by own time:", ""]
    lines += [f"- {100 * tt / total:.1f} % `{name}` ({n / seconds:.0f} calls/s)"
              for name, tt, n in found["own"]]  # fmt: skip
    return lines
