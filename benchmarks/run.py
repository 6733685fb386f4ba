"""The benchmark: loopback fleets, clustertop and its peers side by side, RESULTS.md and a plot.

Run from the repository root: `sh benchmarks/setup.sh && .venv/bin/python -m benchmarks.run`
(`--quick` for a small smoke run). Needs root (sshd, cgroup v1 cpuacct) and loopback only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import cgroups, frames, machine, peer_command, plot, report, standins, targets
from benchmarks.fakehosts import FakeFleet
from benchmarks.harness import TOOLS, Settings, Target, ToolResult, run_size
from benchmarks.sshfleet import SshFleet
from benchmarks.ticks import Window
from benchmarks.tui_driver import run_tui

HERE = Path(__file__).resolve().parent


@dataclasses.dataclass(frozen=True)
class Plan:
    """Which sizes, tools and windows a run covers."""

    sshd_sizes: tuple[int, ...] = (10, 30)
    """Fleet sizes served by real sshd."""
    fake_sizes: tuple[int, ...] = (100, 500, 1000)
    """Fleet sizes served by the lightweight fake-host server."""
    tools: tuple[str, ...] = TOOLS
    """Tools to run."""
    settings: Settings = dataclasses.field(default_factory=Settings)
    """Interval and windows."""
    tui_hosts: int = 500
    """Hosts updating during the TUI measurement (0: skip it)."""
    tui_presses: int = 100
    """Keys pressed during the TUI measurement."""


QUICK = Plan(
    sshd_sizes=(2,),
    fake_sizes=(3,),
    settings=Settings(
        interval=0.3,
        window=Window(warmup=1, count=2),
        sshd_window=Window(warmup=1, count=2),
        fan_out_window=Window(warmup=0, count=2, min_count=1, max_s=1.0),
        timeout=60.0,
        cold_timeout=30.0,
    ),
    tui_hosts=20,
    tui_presses=4,
)


def available_tools(wanted: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """The wanted tools that are installed, and a note for each one that is not."""
    notes, found = [], []
    for tool in wanted:
        if tool == "pdsh" and not shutil.which("pdsh"):
            notes.append("pdsh not installed (run benchmarks/setup.sh): skipped")
        elif tool == "clush" and not (
            Path(sys.executable).with_name("clush").exists() or shutil.which("clush")
        ):
            notes.append("clush not installed (run benchmarks/setup.sh): skipped")
        else:
            found.append(tool)
    return tuple(found), notes


def sshd_phase(plan: Plan, tools: tuple[str, ...], work: Path) -> list[ToolResult]:
    """Every real-sshd size on one fleet of the largest size (smaller sizes use its first hosts)."""
    if not plan.sshd_sizes:
        return []
    fleet = SshFleet(Path("/tmp"), max(plan.sshd_sizes))
    results: list[ToolResult] = []
    try:
        fleet.start()
        command = peer_command.plain_command()
        for n in plan.sshd_sizes:
            client = fleet.client_files(n)

            def sample(n: int = n) -> tuple[list[int], int]:
                return fleet.host_usage_ns()[:n], fleet.standin_usage_ns()

            target = Target(
                fleet.addresses[:n], client.ssh_config, client.known_hosts, command, "sshd", sample
            )
            print(f"real sshd, N = {n}", flush=True)
            results += run_size(target, plan.settings, tools, work, fleet.kill_sessions)
    finally:
        fleet.stop()
    return results


def fake_phase(plan: Plan, tools: tuple[str, ...], work: Path, frames: Path) -> list[ToolResult]:
    """Every fake-server size on one server of the largest size."""
    if not plan.fake_sizes:
        return []
    fleet = FakeFleet(Path("/tmp"), max(plan.fake_sizes))
    results: list[ToolResult] = []
    try:
        fleet.start(frames)
        command = peer_command.plain_command()  # answered with its recorded output
        for n in plan.fake_sizes:
            client = fleet.client_files(n)
            target = Target(
                fleet.addresses[:n], client.ssh_config, client.known_hosts, command, "fake",
                lambda: ([fleet.usage_ns()], 0),
            )  # fmt: skip
            print(f"fake host server, N = {n}", flush=True)
            results += run_size(target, plan.settings, tools, work)
    finally:
        fleet.stop()
    return results


def record_frames(work: Path) -> tuple[Path, dict[str, float]]:
    """A real probe run recorded on this machine (stand-ins on PATH): saved FrameSet, its sizes."""
    stand = standins.install(work / "recording")
    recorded = frames.record(stand, frames.home_for_recording(work / "recording"))
    path = work / "frames.json"
    recorded.save(path)
    return path, recorded.sizes()


def write_outputs(
    out: Path, info: report.RunInfo, results: list[ToolResult], tui: dict[str, Any] | None
) -> None:
    """RESULTS.md, results.json and results.svg in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    verdicts = targets.judge(results, tui)
    method = (HERE / "METHOD.md").read_text()
    (out / "RESULTS.md").write_text(report.render(info, verdicts, results, tui, method))
    raw = {
        "run": dataclasses.asdict(info),
        "results": [r.as_dict() for r in results],
        "tui": tui,
        "targets": [dataclasses.asdict(v) for v in verdicts],
    }
    (out / "results.json").write_text(json.dumps(raw, indent=1, default=str) + "\n")
    plot.plot(results, out / "results.svg", info.interval)
    for v in verdicts:
        mark = {True: "MET    ", False: "NOT MET", None: "NO DATA"}[v.met]
        print(f"{mark}  {v.target}: {v.measured} -- {v.reason}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    parser.add_argument("--out", type=Path, help="output folder (default: benchmarks/)")
    parser.add_argument("--sshd-sizes", help="comma-separated N served by real sshd")
    parser.add_argument("--fake-sizes", help="comma-separated N served by the fake server")
    parser.add_argument("--tools", help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--no-tui", action="store_true", help="skip the TUI measurement")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    parser.add_argument(
        "--from-json",
        type=Path,
        help="measure nothing: rewrite RESULTS.md and the plot from an earlier results.json",
    )
    return parser.parse_args(argv)


def plan_from(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else Plan()

    def sizes(text: str) -> tuple[int, ...]:
        return tuple(int(x) for x in text.split(",") if x)

    if args.sshd_sizes is not None:
        plan = dataclasses.replace(plan, sshd_sizes=sizes(args.sshd_sizes))
    if args.fake_sizes is not None:
        plan = dataclasses.replace(plan, fake_sizes=sizes(args.fake_sizes))
    if args.tools:
        plan = dataclasses.replace(plan, tools=tuple(args.tools.split(",")))
    if args.no_tui:
        plan = dataclasses.replace(plan, tui_hosts=0)
    return plan


def rewrite(raw_path: Path, out: Path) -> int:
    """RESULTS.md, results.json and the plot again from a results.json (same figures)."""
    raw = json.loads(raw_path.read_text())
    info = report.RunInfo(**raw["run"])
    results = [ToolResult(**r) for r in raw["results"]]
    write_outputs(out, info, results, raw.get("tui"))
    return 0


def _stop_on_sigterm() -> None:
    """SIGTERM (a test's timeout, `kill`) unwinds like Ctrl-C: fleets and groups are removed."""

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    if args.from_json is not None:
        return rewrite(args.from_json, args.out or args.from_json.parent)
    if os.geteuid() != 0 or not cgroups.available():
        print(
            "needs root and a cgroup v1 cpuacct hierarchy (/sys/fs/cgroup/cpuacct)", file=sys.stderr
        )
        return 2
    plan = plan_from(args)
    out = args.out or (Path(tempfile.gettempdir()) / "ctbench-quick" if args.quick else HERE)
    tools, notes = available_tools(plan.tools)
    command = shlex.join(
        [".venv/bin/python", "-m", "benchmarks.run", *(argv if argv is not None else sys.argv[1:])]
    )
    started, load_before = time.monotonic(), machine.load_average()
    started_utc = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    work = Path(tempfile.mkdtemp(prefix="ctbench-work-"))
    try:
        frame_set, sizes = record_frames(work)
        results = sshd_phase(plan, tools, work) + fake_phase(plan, tools, work, frame_set)
        tui = (
            run_tui(frame_set, plan.tui_hosts, plan.tui_presses, plan.settings.interval, work)
            if plan.tui_hosts
            else None
        )
        info = report.RunInfo(
            command=command, started_utc=started_utc, wall_s=time.monotonic() - started,
            machine=machine.describe(), load_before=load_before,
            load_after=machine.load_average(), interval=plan.settings.interval, notes=notes,
            frame_bytes=sizes, peer_command=peer_command.plain_command(),
        )  # fmt: skip
        write_outputs(out, info, results, tui)
        print(f"wrote {out / 'RESULTS.md'} and {out / 'results.svg'}")
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
