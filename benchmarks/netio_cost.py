"""Experiment: the probe's remote CPU per tick with network, disk I/O and ports on vs off.

    .venv/bin/python -m benchmarks.netio_cost [--rounds 4] [--ticks 60] [--write]

Issue 15's bound: at most +15 % with the net, dio and ports sections on. "Off" is the same
probe with those three sections' calls taken out of its tick (nothing else changes). Measured
as benchmarks.probe_cost measures the persistent probe (own cpuacct group, stand-ins charged
apart), alternating off/on within each round so that load from other users falls on both alike;
host screen closed (ports every 150 ticks) and open (full scan and ports every 5 ticks). The
load average is printed with each round: on a shared machine it says how much to trust a ratio.
`--write` appends the table to benchmarks/NETIO.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from benchmarks import cgroups, standins
from benchmarks.cgroups import CpuGroup
from benchmarks.probe_cost import GAP_S, MARKER, _kill_group, _spawn, _stop, _tick
from clustertop.sources.ssh.probe import ProbeSettings, probe_script

RESULTS = Path(__file__).with_name("NETIO.md")
_NETIO_CALLS = "\tnet_section()\n\tdio_section()\n"
_PORTS_CALL = "ports_section()\n\tPORT_TICK++"


def script(netio: bool) -> str:
    """The probe's program; without netio, its tick calls neither net, dio nor ports."""
    text = probe_script(ProbeSettings(marker=MARKER, sample_ms=round(GAP_S * 1000)))
    if netio:
        return text
    assert text.count(_NETIO_CALLS) == 1 and text.count(_PORTS_CALL) == 1, "probe.awk changed"
    # The ports call leaves an empty statement: its `if` then guards nothing, as before.
    return text.replace(_NETIO_CALLS, "").replace(_PORTS_CALL, ";\n\tPORT_TICK++")


def measure(
    stand: standins.StandIns, group: CpuGroup, program: str, ticks: int, full: bool
) -> float:
    """CPU ms per tick of one persistent probe, past its start-up and first two frames."""
    proc = _spawn(stand, group, subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(program.encode())
    proc.stdout.readline()
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    for seq in (1, 2):
        proc.stdin.write(f"t {seq} 1\n".encode())
        time.sleep(0.5)
    start = group.usage_ns()
    _tick(proc, ticks, full)
    used = group.usage_ns() - start
    _stop(proc)
    return used / 1e6 / ticks


def _loadavg() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[0]


def run(rounds: int, ticks: int) -> list[str]:
    """Markdown lines: one row per round and mode, then the medians and ratios."""
    work = Path(tempfile.mkdtemp(prefix="ctbench-netio-"))
    root = CpuGroup(cgroups.CPUACCT / f"ctbench-netio-{id(work)}").create()
    standin_group = CpuGroup(root.path / "standins").create()
    stand = standins.install(work / "standins")
    programs = {False: script(False), True: script(True)}
    figures: dict[tuple[bool, bool], list[float]] = {}
    lines = ["| round | host screen | off (ms/tick) | on (ms/tick) | on/off | load 1 min |"]
    lines.append("| ---: | --- | ---: | ---: | ---: | ---: |")
    try:
        for number in range(1, rounds + 1):
            for full in (False, True):
                got = {}
                for netio in (False, True) if number % 2 else (True, False):
                    group = CpuGroup(root.path / f"r{number}{int(full)}{int(netio)}").create()
                    got[netio] = measure(stand, group, programs[netio], ticks, full)
                    figures.setdefault((full, netio), []).append(got[netio])
                    _kill_group(group)
                    _kill_group(standin_group)
                screen = "open" if full else "closed"
                row = f"| {number} | {screen} | {got[False]:.2f} | {got[True]:.2f} | "
                lines.append(row + f"{got[True] / got[False]:.3f} | {_loadavg()} |")
                print(lines[-1], flush=True)
    finally:
        for group in root.path.glob("r*"):
            _kill_group(CpuGroup(group))
        _kill_group(standin_group)
        root.remove()
        shutil.rmtree(work, ignore_errors=True)
    lines += ["", "| host screen | median off | median on | ratio of medians |"]
    lines.append("| --- | ---: | ---: | ---: |")
    for full in (False, True):
        off, on = (statistics.median(figures[(full, n)]) for n in (False, True))
        lines.append(f"| {'open' if full else 'closed'} | {off:.2f} | {on:.2f} | {on / off:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument("--write", action="store_true", help="append the table to NETIO.md")
    args = parser.parse_args()
    before = _loadavg()
    lines = run(args.rounds, args.ticks)
    print("\n".join(lines[-4:]))
    if args.write:
        head = (
            f"\n## Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {args.rounds}"
            f" rounds x {args.ticks} ticks, load average at start {before}\n\n"
        )
        with RESULTS.open("a") as file:
            file.write(head + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
