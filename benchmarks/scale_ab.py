"""SSH fan-out at scale, A/B: clustertop from two source trees alternately, in one run.

    git archive main src | tar -x -C /tmp/ct-before
    .venv/bin/python -m benchmarks.scale_ab --variant before=/tmp/ct-before/src \\
        --variant after=src --fake-size 1000 --sshd-sizes 10,30 --rounds 2 --write

Fake-server part (client-side scale): cold start, client CPU per host-tick, client RSS (history
included) and the fake server's CPU until cold start, for each variant, alternating the order
each round. Real-sshd part: remote CPU per host-tick of each variant and of exec-per-tick on the
same fleet in the same round, and their ratio. `--write` puts the tables into RESULTS.md between
the markers below (the rest of RESULTS.md is `benchmarks.run`'s).
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import cgroups, machine, peer_command
from benchmarks.fakehosts import FakeFleet
from benchmarks.harness import REPO, Run, Settings, Target, ToolResult, runner_argv
from benchmarks.run import record_frames
from benchmarks.sshfleet import SshFleet

HERE = Path(__file__).resolve().parent
BEGIN = "<!-- scale_ab begin -->"
END = "<!-- scale_ab end -->"
Variant = tuple[str, str]


def variant_env(src: str) -> dict[str, str]:
    """The benchmark's own modules, and clustertop from `src`."""
    path = os.pathsep.join([str(REPO), str(Path(src).resolve())])
    return {**os.environ, "PYTHONPATH": path}


def run_one(
    tool: str, env: dict[str, str], target: Target, settings: Settings, work: Path
) -> ToolResult:
    """One runner of `tool` at this target's size."""
    n = len(target.hosts)
    hosts_file = work / f"hosts-{target.server}-{n}.txt"
    hosts_file.write_text("".join(h + "\n" for h in target.hosts))
    argv = runner_argv(tool, hosts_file, target, settings)
    log = work / f"{tool}-{target.server}-{n}.log"
    return Run(ToolResult(tool, n, target.server), argv, target.remote, env).execute(
        settings.timeout, log
    )


def ordered(variants: Sequence[Variant], round_no: int) -> list[Variant]:
    """Alternate the order every round, so neither variant always runs first."""
    return list(variants) if round_no % 2 == 0 else list(reversed(variants))


def fake_part(
    variants: Sequence[Variant], n: int, rounds: int, work: Path, frames: Path
) -> list[dict[str, object]]:
    """Every variant at N fake hosts, `rounds` times; server CPU until cold start added."""
    fleet = FakeFleet(Path("/tmp"), n)
    rows: list[dict[str, object]] = []
    try:
        client = fleet.start(frames)
        target = Target(fleet.addresses, client.ssh_config, client.known_hosts, "", "fake", None)
        for round_no in range(rounds):
            for label, src in ordered(variants, round_no):
                load = machine.load_average()
                server_before = fleet.usage_ns()
                result = run_one("clustertop", variant_env(src), target, Settings(), work)
                server_s = (fleet.usage_ns() - server_before) / 1e9
                rows.append(
                    {"variant": label, "round": round_no + 1, "load": load,
                     "server_cpu_s": server_s, **result.as_dict()}
                )  # fmt: skip
                print(summary(rows[-1]), flush=True)
                time.sleep(2.0)  # the server closes the last run's sessions
    finally:
        fleet.stop()
    return rows


def sshd_part(
    variants: Sequence[Variant], sizes: Sequence[int], rounds: int, work: Path
) -> list[dict[str, object]]:
    """Remote CPU of every variant and of exec-per-tick, on one real-sshd fleet."""
    if not sizes:
        return []
    fleet = SshFleet(Path("/tmp"), max(sizes))
    rows: list[dict[str, object]] = []
    try:
        fleet.start()
        command = peer_command.plain_command()
        for n in sizes:
            client = fleet.client_files(n)

            def sample(n: int = n) -> tuple[list[int], int]:
                return fleet.host_usage_ns()[:n], fleet.standin_usage_ns()

            target = Target(
                fleet.addresses[:n], client.ssh_config, client.known_hosts, command, "sshd", sample
            )
            for round_no in range(rounds):
                runs = [*ordered(variants, round_no), ("exec-per-tick", str(REPO / "src"))]
                for label, src in runs:
                    tool = "exec-per-tick" if label == "exec-per-tick" else "clustertop"
                    load = machine.load_average()
                    result = run_one(tool, variant_env(src), target, Settings(), work)
                    rows.append(
                        {"variant": label, "round": round_no + 1, "load": load,
                         **result.as_dict()}
                    )  # fmt: skip
                    print(summary(rows[-1]), flush=True)
                    fleet.kill_sessions()
                    time.sleep(2.0)
    finally:
        fleet.stop()
    return rows


def _f(value: object, spec: str = ".2f") -> str:
    return "-" if not isinstance(value, int | float) else format(value, spec)


def summary(row: dict[str, object]) -> str:
    """One console line."""
    return (
        f"{row['server']} N={row['hosts']} {row['variant']:14} round {row['round']}: "
        f"cold {_f(row['cold_s'])} s (client CPU {_f(row.get('cold_cpu_s'), '.1f')} s, server "
        f"{_f(row.get('server_cpu_s'), '.1f')} s), client {_f(row['client_cpu_ms'])} ms/host-tick, "
        f"rss {_f(row['client_rss_mb'], '.0f')} MB, remote {_f(row['remote_ms'])} ms/host-tick"
        f" (load {row['load']})" + (f" ERROR {row['error']}" if row.get("error") else "")
    )


def fake_table(rows: list[dict[str, object]]) -> list[str]:
    """One line per run, fake server."""
    out = [
        "| variant | round | cold start (s) | client CPU (ms/host-tick) | client RSS peak (MB) "
        "| sweep p50 / p95 (ms) | fake server CPU until cold (s) | load average at start | note "
        "| client CPU until cold (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |",
    ]
    for r in rows:
        window = r["window"] if isinstance(r["window"], dict) else {}
        out.append(
            f"| {r['variant']} | {r['round']} | {_f(r['cold_s'])} | {_f(r['client_cpu_ms'])} "
            f"| {_f(r['client_rss_mb'], '.0f')} | {_f(window.get('p50_ms'), '.0f')} / "
            f"{_f(window.get('p95_ms'), '.0f')} | {_f(r['server_cpu_s'], '.1f')} | {r['load']} "
            f"| {r.get('error') or ''} | {_f(r.get('cold_cpu_s'), '.1f')} |"
        )
    return out


def sshd_table(rows: list[dict[str, object]]) -> list[str]:
    """One line per run, real sshd, with the ratio to that round's exec-per-tick."""
    peer = {
        (r["hosts"], r["round"]): r["remote_ms"] for r in rows if r["variant"] == "exec-per-tick"
    }
    out = [
        "| N | variant | round | remote CPU (ms/host-tick) | exec-per-tick / it "
        "| client CPU (ms/host-tick) | load average at start |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        base, own = peer.get((r["hosts"], r["round"])), r["remote_ms"]
        ratio = (
            f"{base / own:.1f}x"
            if isinstance(base, float) and isinstance(own, float) and own > 0
            else "-"
        )
        out.append(
            f"| {r['hosts']} | {r['variant']} | {r['round']} | {_f(own)} | {ratio} "
            f"| {_f(r['client_cpu_ms'])} | {r['load']} |"
        )
    return out


def medians(rows: list[dict[str, object]], key: str) -> dict[str, float]:
    """Median of `key` per variant."""
    per: dict[str, list[float]] = {}
    for r in rows:
        value = r.get(key)
        if isinstance(value, int | float):
            per.setdefault(str(r["variant"]), []).append(float(value))
    return {label: statistics.median(v) for label, v in per.items()}


def section(args: argparse.Namespace, fake: list[dict[str, object]], sshd: list[dict[str, object]],
            wall: float) -> str:  # fmt: skip
    """The Markdown put between the markers."""
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    variants = ", ".join(f"{label} = `{src}`" for label, src in args.variant)
    lines = [
        BEGIN,
        "## SSH fan-out at scale: before / after (issue 13)",
        "",
        f"Produced by `.venv/bin/python -m benchmarks.scale_ab` (finished {started}, took "
        f"{wall / 60:.1f} min): {variants}, alternating order each round, one fake-host server "
        f"and one real-sshd fleet for the whole run. Load average before / after: "
        f"{args.load_before} / {machine.load_average()} (2 cores, shared with other work).",
        "",
    ]
    if fake:
        lines += [f"### N = {args.fake_size}, fake-host server (client side)", "",
                  *fake_table(fake), ""]  # fmt: skip
        for key, name in (("cold_s", "cold start s"), ("client_cpu_ms", "client ms/host-tick"),
                          ("client_rss_mb", "client RSS MB"),
                          ("cold_cpu_s", "client CPU until cold s"),
                          ("server_cpu_s", "server CPU until cold s")):  # fmt: skip
            med = medians(fake, key)
            lines.append(f"- median {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in med.items()))
        lines.append("")
    if sshd:
        lines += ["### Real sshd (remote CPU)", "", *sshd_table(sshd), ""]
    lines.append(END)
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path) -> None:
    """Replace the marked section of RESULTS.md (or put it after the first paragraph)."""
    old = path.read_text()
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        new = head + text.rstrip("\n") + rest.split(END, 1)[1]
    else:
        first, sep, rest = old.partition("\n## ")
        new = first.rstrip("\n") + "\n\n" + text + "\n## " + rest if sep else old + "\n" + text
    path.write_text(new)


def _variant(text: str) -> Variant:
    label, sep, src = text.partition("=")
    if not sep or not label or not src:
        raise argparse.ArgumentTypeError(f"expected LABEL=SRC, got {text!r}")
    return label, src


def main(argv: list[str] | None = None, *, clock: Callable[[], float] = time.monotonic) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", type=_variant, action="append", required=True)
    parser.add_argument("--fake-size", type=int, default=1000, help="0: skip")
    parser.add_argument("--sshd-sizes", default="10,30", help="comma-separated; '' to skip")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update benchmarks/RESULTS.md")
    parser.add_argument(
        "--frames",
        metavar="PATH",
        help="replay a saved FrameSet (mem_profile --save-frames) instead of recording one: its "
        "ports section lists the recording machine's listening sockets, which other fleets on "
        "a shared machine inflate",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not cgroups.available():
        print("needs root and a cgroup v1 cpuacct hierarchy", file=sys.stderr)
        return 2
    args.load_before = machine.load_average()
    started = clock()
    work = Path(tempfile.mkdtemp(prefix="ctbench-ab-"))
    try:
        fake: list[dict[str, object]] = []
        if args.fake_size:
            frames = Path(args.frames) if args.frames else record_frames(work)[0]
            fake = fake_part(args.variant, args.fake_size, args.rounds, work, frames)
        sizes = [int(x) for x in args.sshd_sizes.split(",") if x]
        sshd = sshd_part(args.variant, sizes, args.rounds, work)
        text = section(args, fake, sshd, clock() - started)
        print(text)
        if args.write:
            write_section(text, HERE / "RESULTS.md")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
