"""The TUI's own CPU when little changes: `clustertop` in a real terminal watching 10 hosts.

Run as root from the repository root (it starts sshd servers of the test fleet on loopback):

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.idle_cost --write

Each subject runs in its own 160x48 tmux terminal, all at the same time, for the same window:
`python -m clustertop -F <fleet ssh_config> h1..h10` at the default interval (no config, history
recorded into a private state folder, as a new user gets it) for every `--variant LABEL=SRC`
(default: this checkout's src; give an older checkout's src too to compare before and after in
one run), and `htop` when it is installed. After every host is up and a warm-up, the window's
CPU time of each process (user + system, all its threads, from psutil) is its cost, as % of one
core; bytes written to the terminal per second show how much is repainted. `--profile` then
samples each clustertop with py-spy (not a project dependency: `.venv/bin/pip install py-spy`)
for another window and lists where its time goes. `--floor` adds the first variant once more,
its source stopped after the warm-up (Textual and the app's timers with the last readings on
screen), and a bare Textual app with the grid's layout and a static table
(benchmarks/idle_bare.py). `--record FILE` pickles every snapshot shown, for
benchmarks/idle_replay.py; `--record-frames FILE` appends every probe frame as a JSON line,
for benchmarks/assemble_replay.py. `--write` writes the figures to benchmarks/IDLE.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from tests.e2e.tmux import TmuxTerminal
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import HostPlan
from tests.waiting import wait_for

from benchmarks import idle_profile
from benchmarks.machine import describe, load_average

REPO = Path(__file__).resolve().parents[1]
TARGET_PERCENT = 1.0
"""The TUI's idle cost target, % of one core, watching 10 hosts at the default interval."""


@dataclass
class Subject:
    """One program in its own terminal, followed through the window."""

    label: str
    argv: list[str]
    terminal: TmuxTerminal
    pythonpath: str | None = None
    parts_file: Path | None = None
    process: psutil.Process | None = None
    figures: dict[str, Any] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    cprofile: dict[str, Any] = field(default_factory=dict)
    parts: list[tuple[str, float, float]] = field(default_factory=list)
    marker: str = "clustertop"
    """Found in the command line of the subject's process."""
    pause_file: Path | None = None
    """--floor: created after the warm-up, and the subject's source stops (idle_parts)."""


def cpu_seconds(process: psutil.Process) -> float:
    """User + system CPU of the process and all its threads so far."""
    times = process.cpu_times()
    return float(times.user + times.system)


def main_thread_seconds(process: psutil.Process) -> float:
    """User + system CPU of the main thread (the event loop: Textual, SSH, parsing) so far."""
    for thread in process.threads():
        if thread.id == process.pid:
            return float(thread.user_time + thread.system_time)
    return 0.0


def find_process(terminal: TmuxTerminal, marker: str) -> psutil.Process:
    """The process below the pane's shell whose command line contains `marker`."""

    def found() -> psutil.Process | None:
        shell = psutil.Process(int(terminal.pane("pane_pid")))
        for child in shell.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if marker in " ".join(child.cmdline()):
                    return child
        return None

    process = wait_for(found, 30, what=f"{marker} in its terminal")
    assert isinstance(process, psutil.Process)
    return process


def start_subjects(
    fleet: Fleet, hosts: Sequence[str], args: argparse.Namespace, htop: bool, work: Path
) -> list[Subject]:
    """Every subject started in its own terminal (private config and state folders)."""
    subjects = []
    for label, src in args.variant:
        argv = [sys.executable, "-m", "clustertop", "-F", str(fleet.ssh_config), *hosts]
        subject = Subject(label, argv, _terminal(work / label), pythonpath=src)
        if (
            args.parts or args.cprofile or args.record or args.record_frames
        ):  # benchmarks/idle_parts/sitecustomize.py
            subject.pythonpath = os.pathsep.join([src, str(REPO / "benchmarks" / "idle_parts")])
        if args.parts:
            subject.parts_file = work / label / "parts.jsonl"
            subject.terminal.env["IDLE_PARTS_OUT"] = str(subject.parts_file)
        if args.cprofile:
            subject.terminal.env["IDLE_CPROFILE_OUT"] = str(work / label / "main.prof")
        if args.record:
            subject.terminal.env["IDLE_RECORD_OUT"] = str(args.record.resolve())
        if args.record_frames:
            subject.terminal.env["IDLE_FRAMES_OUT"] = str(args.record_frames.resolve())
        subjects.append(subject)
    if args.floor:
        subjects += floor_subjects(fleet, hosts, args.variant[0][1], work)
    if htop:
        subjects.append(Subject("htop", ["htop"], _terminal(work / "htop"), marker="htop"))
    for subject in subjects:
        if subject.pythonpath is not None:
            subject.terminal.env["PYTHONPATH"] = subject.pythonpath
        subject.terminal.start(subject.argv)
        subject.process = find_process(subject.terminal, subject.marker)
    return subjects


def floor_subjects(fleet: Fleet, hosts: Sequence[str], src: str, work: Path) -> list[Subject]:
    """--floor: the first variant again with its source stopped after the warm-up ("paused":
    Textual plus the app's timers, the last readings on screen), and Textual alone with the
    grid's layout and a static table ("bare", benchmarks/idle_bare.py)."""
    argv = [sys.executable, "-m", "clustertop", "-F", str(fleet.ssh_config), *hosts]
    paused = Subject("paused", argv, _terminal(work / "paused"))
    paused.pythonpath = os.pathsep.join([src, str(REPO / "benchmarks" / "idle_parts")])
    paused.pause_file = work / "paused" / "pause"
    paused.terminal.env["IDLE_PAUSE_FILE"] = str(paused.pause_file)
    bare_argv = [sys.executable, "-m", "benchmarks.idle_bare", "--hosts", str(len(hosts))]
    bare = Subject("bare", bare_argv, _terminal(work / "bare"), marker="idle_bare")
    bare.pythonpath = str(REPO)
    return [paused, bare]


def _terminal(folder: Path) -> TmuxTerminal:
    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLUSTERTOP_", "TMUX"))}
    env |= {
        "XDG_CONFIG_HOME": str(folder / "config"),
        "XDG_STATE_HOME": str(folder / "state"),
        "HOME": str(folder),
        "TERM": "xterm-256color",
    }
    env.pop("PYTHONPATH", None)
    return TmuxTerminal(env, folder / "terminal-output")


def measure_windows(subjects: Sequence[Subject], seconds: float, count: int) -> None:
    """`count` windows one after another: each subject's figures are those of its median
    window (by CPU); `windows` keeps every window's CPU % (the machine's load moves); the
    parts are those of all windows together."""
    windows: dict[str, list[dict[str, Any]]] = {s.label: [] for s in subjects}
    started = time.monotonic()
    for _ in range(count):
        measure(subjects, seconds)
        for s in subjects:
            windows[s.label].append(s.figures)
    for s in subjects:  # parts over every window, not the last one's
        if s.parts_file is not None:
            s.parts = idle_profile.parts(s.parts_file, started, time.monotonic())
    for s in subjects:
        ordered = sorted(windows[s.label], key=lambda f: float(f["percent_of_core"]))
        s.figures = dict(ordered[(len(ordered) - 1) // 2])
        s.figures["windows"] = [f["percent_of_core"] for f in windows[s.label]]
        s.figures["loads"] = [f["load_before"] for f in windows[s.label]]


def measure(subjects: Sequence[Subject], seconds: float) -> None:
    """CPU % of one core and terminal bytes per second of each subject over one window."""
    start_cpu = {s.label: cpu_seconds(_process(s)) for s in subjects}
    start_main = {s.label: main_thread_seconds(_process(s)) for s in subjects}
    start_bytes = {s.label: len(s.terminal.written()) for s in subjects}
    started = time.monotonic()
    load_before = load_average()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    for s in subjects:
        if s.parts_file is not None:
            s.parts = idle_profile.parts(s.parts_file, started, started + elapsed)
        used = cpu_seconds(_process(s)) - start_cpu[s.label]
        main = main_thread_seconds(_process(s)) - start_main[s.label]
        written = len(s.terminal.written()) - start_bytes[s.label]
        s.figures = {
            "cpu_s": round(used, 3),
            "window_s": round(elapsed, 1),
            "percent_of_core": round(100 * used / elapsed, 2),
            "main_thread_percent": round(100 * main / elapsed, 2),
            "terminal_bytes_per_s": round(written / elapsed),
            "threads": _process(s).num_threads(),
            "load_before": load_before,
            "load_after": load_average(),
        }


def _process(subject: Subject) -> psutil.Process:
    assert subject.process is not None
    return subject.process


def wait_all_up(subjects: Sequence[Subject], count: int, timeout: float) -> None:
    """Every clustertop shows all hosts up (bounded)."""
    for subject in subjects:
        if subject.pythonpath is not None:
            subject.terminal.wait_for_text(f"Hosts {count} up", timeout=timeout)


def pause_sources(subjects: Sequence[Subject]) -> None:
    """--floor: stop the paused subject's source, and let its last repaint pass."""
    for subject in subjects:
        if subject.pause_file is not None:
            subject.pause_file.touch()
            time.sleep(5)


def run(args: argparse.Namespace) -> list[Subject]:
    """Fleet up, subjects started, warmed up, measured (and profiled); everything stopped."""
    hosts = [f"h{i}" for i in range(1, args.hosts + 1)]
    plans = [HostPlan(name, docker="absent") for name in hosts]  # healthy hosts, no warnings
    htop = not args.no_htop and shutil.which("htop") is not None
    with Fleet.start(plans, jump=False) as fleet, _work(args.keep) as work:
        subjects = start_subjects(fleet, hosts, args, htop, work)
        try:
            wait_all_up(subjects, len(hosts), 60.0)
            time.sleep(args.warmup)
            pause_sources(subjects)
            measure_windows(subjects, args.seconds, args.windows)
            if args.profile:
                idle_profile.profile(
                    [(s.label, _process(s).pid, s.profile) for s in _clustertops(subjects)],
                    args.seconds,
                    work,
                )
            if args.cprofile:
                cprofile(subjects, args.seconds, work)
        finally:
            for subject in subjects:
                subject.terminal.kill()
    return subjects


def cprofile(subjects: Sequence[Subject], seconds: float, work: Path) -> None:
    """cProfile every clustertop for one more window at once (benchmarks/idle_parts)."""
    profiled = _clustertops(subjects)
    for s in profiled:
        _process(s).send_signal(signal.SIGUSR1)
    time.sleep(seconds)
    for s in profiled:
        _process(s).send_signal(signal.SIGUSR2)
    for s in profiled:
        out = work / s.label / "main.prof"
        wait_for(out.exists, 60, what=f"{s.label}'s cProfile stats")
        time.sleep(0.5)  # written by the app's main thread: let it finish
        s.cprofile = idle_profile.cprofile_summary(out, seconds)


def _clustertops(subjects: Sequence[Subject]) -> list[Subject]:
    return [s for s in subjects if s.marker == "clustertop"]


@contextlib.contextmanager
def _work(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ct-idle-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"work folder (terminal output, py-spy samples): {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def report(args: argparse.Namespace, subjects: Sequence[Subject], command: str) -> str:
    """IDLE.md: the figures of every subject, the target, where the time goes, the machine."""
    lines = [
        "# The TUI's own cost when little changes",
        "",
        "Generated by `benchmarks/idle_cost.py` (do not edit by hand). Command:",
        "",
        f"    {command}",
        "",
        f"{args.hosts} hosts of the loopback test fleet (real sshd, stand-in nvidia-smi, no "
        "Docker), default interval, 160x48 tmux terminals, all subjects at once; "
        f"{args.warmup:g} s warm-up after "
        f"every host is up, then a {args.seconds:g} s window. Target: at most "
        f"{TARGET_PERCENT:g} % of one core.",
        "",
        "| subject | CPU, % of one core | of it, main thread | CPU s in window | terminal bytes/s "
        "| threads | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in subjects:
        f = s.figures
        measured = s.marker == "clustertop" and s.pause_file is None  # not the floor's
        met = _verdict(f["percent_of_core"]) if measured else ""
        lines.append(
            f"| {s.label} | {f['percent_of_core']:.2f} | {f['main_thread_percent']:.2f} | "
            f"{f['cpu_s']:.2f} | "
            f"{f['terminal_bytes_per_s']} | {f['threads']} | {met} |"
        )
    first = subjects[0].figures
    lines += ["", f"Load average before / after the window: {first['load_before']} / "]
    lines[-1] += f"{first['load_after']} (2-core machine shared with other work)."
    if len(first.get("windows", [])) > 1:
        lines += ["", *_windows_markdown(subjects)]
    if args.notes is not None:
        lines += ["", args.notes.read_text().rstrip()]
    for s in subjects:
        if s.parts:
            lines += ["", *idle_profile.parts_markdown(s.label, s.parts)]
    for s in subjects:
        if s.cprofile:
            lines += ["", *idle_profile.cprofile_markdown(s.label, s.cprofile)]
    for s in subjects:
        if s.profile:
            lines += ["", *idle_profile.markdown(s.label, s.profile)]
    lines += ["", "## Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in describe().items() if k not in ("pdsh", "clush")]
    return "\n".join(lines) + "\n"


def _windows_markdown(subjects: Sequence[Subject]) -> list[str]:
    """Every window's CPU % per subject (the table above shows each subject's median window)."""
    first = subjects[0].figures
    count = len(first["windows"])
    lines = [
        f"Every window ({count} of {first['window_s']:g} s, one after another; the table shows "
        "each subject's median window):",
        "",
        "| subject | " + " | ".join(f"window {i + 1}" for i in range(count)) + " |",
        "| --- |" + " ---: |" * count,
    ]
    for s in subjects:
        lines.append(
            f"| {s.label} | " + " | ".join(f"{p:.2f}" for p in s.figures["windows"]) + " |"
        )
    lines.append("| load average at the start | " + " | ".join(first["loads"]) + " |")
    return lines


def _verdict(percent: float) -> str:
    return "met" if percent <= TARGET_PERCENT else f"not met (> {TARGET_PERCENT:g} %)"


def _variant(text: str) -> tuple[str, str]:
    label, sep, path = text.partition("=")
    src, *more = path.split(os.pathsep)  # more: extra folders (e.g. a sitecustomize to try)
    if not sep or not label or not Path(src, "clustertop").is_dir():
        raise argparse.ArgumentTypeError(f"expected LABEL=SRC with SRC/clustertop: {text!r}")
    return label, os.pathsep.join(str(Path(p).resolve()) for p in (src, *more))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--windows", type=int, default=1, help="windows, one after another")
    parser.add_argument("--variant", type=_variant, action="append", help="LABEL=SRC (repeat)")
    parser.add_argument("--no-htop", action="store_true")
    parser.add_argument(
        "--floor", action="store_true", help="add the first variant paused, and bare Textual"
    )
    parser.add_argument("--parts", action="store_true", help="main-thread CPU per part")
    parser.add_argument("--profile", action="store_true", help="py-spy each clustertop after")
    parser.add_argument("--cprofile", action="store_true", help="cProfile each clustertop after")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--record", type=Path, help="append every snapshot shown to this file (idle_replay)"
    )
    parser.add_argument(
        "--record-frames", type=Path, help="append every probe frame to this file (assemble_replay)"
    )
    parser.add_argument("--write", action="store_true", help="write benchmarks/IDLE.md")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "IDLE.md")
    parser.add_argument("--notes", type=Path, help="markdown added to IDLE.md after the figures")
    args = parser.parse_args(argv)
    args.variant = args.variant or [("clustertop", str(REPO / "src"))]
    if os.geteuid() != 0:
        print("benchmarks.idle_cost: needs root (sshd)", file=sys.stderr)
        return 1
    subjects = run(args)
    for s in subjects:
        print(json.dumps({"subject": s.label, **s.figures}), flush=True)
    if args.write:
        shown = ["python -m benchmarks.idle_cost", *(argv if argv is not None else sys.argv[1:])]
        args.out.write_text(report(args, subjects, " ".join(shown)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
