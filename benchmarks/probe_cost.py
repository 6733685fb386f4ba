"""Experiment: remote CPU per tick of clustertop's probe, persistent and one-shot, and the peers'.

    .venv/bin/python -m benchmarks.probe_cost [--ticks 60] [--breakdown]

Runs each way of collecting locally (no SSH: an SSH session's own cost comes on top, the same
for every exec-per-tick design) under /bin/sh in its own cpuacct group, with the stand-ins on
PATH and charged to a group of their own (excluded, as in the main benchmark). Ticks come every
0.2 s; the GPU samplers run at the same period, so every tick sees a new GPU sample as it does
at clustertop's 2 s interval.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import cgroups, peer_command, standins
from benchmarks.cgroups import CpuGroup
from clustertop.sources.ssh.probe import ProbeSettings, probe_script

GAP_S = 0.2
"""Seconds between ticks."""
MARKER = "@ctcost"
TRAMPOLINE = 'echo $$ >"$0" && exec /bin/sh -s'
"""Moves the shell into the measured group before it reads its program."""

Measure = Callable[[standins.StandIns, CpuGroup, int], float]


def _spawn(stand: standins.StandIns, group: CpuGroup, stdout: int) -> subprocess.Popen[bytes]:
    standin_group = group.path.parent / "standins" / "cgroup.procs"
    return subprocess.Popen(
        ["sh", "-c", TRAMPOLINE, str(group.procs_file)],
        stdin=subprocess.PIPE,
        stdout=stdout,
        env=stand.env(stand.data_dir, standin_group),
        bufsize=0,
        start_new_session=True,  # a process group leader, as sshd starts it
    )


def _start_persistent(stand: standins.StandIns, group: CpuGroup) -> subprocess.Popen[bytes]:
    """The probe as clustertop starts it, past its start-up and first two (full-scan) frames."""
    settings = ProbeSettings(marker=MARKER, sample_ms=round(GAP_S * 1000))
    proc = _spawn(stand, group, subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(probe_script(settings).encode())
    proc.stdout.readline()  # "ready": ticks sent before it could be read as script text
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    for seq in (1, 2):  # not per-tick cost
        proc.stdin.write(f"t {seq} 1\n".encode())
        time.sleep(0.5)
    return proc


def _tick(proc: subprocess.Popen[bytes], ticks: int, full: bool) -> None:
    """Feed `ticks` tick lines GAP_S apart, then let the last frame finish."""
    assert proc.stdin is not None
    for seq in range(3, ticks + 3):
        proc.stdin.write(f"t {seq} {int(full)}\n".encode())
        time.sleep(GAP_S)
    time.sleep(1.0)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def persistent(full_every_tick: bool) -> Measure:
    """The probe as clustertop runs it: started once, fed a tick line every GAP_S."""

    def measure(stand: standins.StandIns, group: CpuGroup, ticks: int) -> float:
        proc = _start_persistent(stand, group)
        start = group.usage_ns()
        _tick(proc, ticks, full_every_tick)
        used = group.usage_ns() - start
        _stop(proc)
        return used / 1e6 / ticks

    return measure


def _read_until(proc: subprocess.Popen[bytes], end: bytes) -> None:
    assert proc.stdout is not None
    data = b""
    while not data.endswith(end):
        chunk = proc.stdout.read(1)
        if not chunk:
            raise RuntimeError("one-shot probe ended without a frame")
        data = data[-len(end) :] + chunk


def one_shot_probe(stand: standins.StandIns, group: CpuGroup, ticks: int) -> float:
    """clustertop's probe started afresh every tick: script, one tick, its frame, stop."""
    script = probe_script(ProbeSettings(marker=MARKER, sample_ms=round(GAP_S * 1000))).encode()
    start = group.usage_ns()
    for _ in range(ticks):
        began = time.monotonic()
        proc = _spawn(stand, group, subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(script)
        _read_until(proc, f"{MARKER} ready ".encode())  # as clustertop's client does
        proc.stdin.write(b"t 1 1\n")
        _read_until(proc, f"{MARKER} d 1\n".encode())
        proc.stdin.write(b"q\n")
        proc.stdin.close()
        proc.wait(timeout=30)
        time.sleep(max(0.0, GAP_S - (time.monotonic() - began)))
    return (group.usage_ns() - start) / 1e6 / ticks


def plain(stand: standins.StandIns, group: CpuGroup, ticks: int) -> float:
    """The peers' plain command line, started every tick."""
    work = Path(tempfile.mkdtemp(prefix="ctbench-plain-"))
    try:
        (work / "plain.sh").write_text(peer_command.plain_command() + "\n")
        proc = _spawn(stand, group, subprocess.DEVNULL)
        assert proc.stdin is not None
        proc.stdin.write(
            f"while read -r _ _; do sh {work / 'plain.sh'} >/dev/null; done\n".encode()
        )
        time.sleep(0.5)
        start = group.usage_ns()
        for seq in range(ticks):
            proc.stdin.write(f"t {seq}\n".encode())
            time.sleep(GAP_S)
        time.sleep(1.0)
        used = group.usage_ns() - start
        proc.stdin.close()
        proc.wait(timeout=30)
        return used / 1e6 / ticks
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _label(argv: list[str]) -> str:
    """A short name for one of the probe's processes."""
    sampler = [w for w in argv if w.startswith("KIND=")]
    if sampler:
        return f"sampler awk, collect.awk ({sampler[0][5:]})"
    if argv and "awk" in argv[0]:
        return "frame awk, probe.awk"
    return "the probe's shell" if argv[:2] == ["/bin/sh", "-s"] else " ".join(argv)[:60]


def _cpu_ms_by_command(group: CpuGroup) -> dict[int, tuple[str, float]]:
    """PID -> (short command, user + system CPU ms so far) of every process in the group."""
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in group.pids():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            words = [a.decode(errors="replace") for a in argv if a]
            out[pid] = (_label(words), (int(fields[11]) + int(fields[12])) * tick_ms)
    return out


def breakdown(stand: standins.StandIns, group: CpuGroup, ticks: int) -> list[tuple[str, float]]:
    """The persistent probe (screen closed) per process: (command, CPU ms per tick)."""
    proc = _start_persistent(stand, group)
    before, start = _cpu_ms_by_command(group), group.usage_ns()
    _tick(proc, ticks, full=False)
    after, total = _cpu_ms_by_command(group), (group.usage_ns() - start) / 1e6
    rows = [
        (name, (ms - before.get(pid, (name, 0.0))[1]) / ticks) for pid, (name, ms) in after.items()
    ]
    rows = [row for row in rows if row[1] > 0]
    rows.append(
        (
            "processes that ended (df, docker, job subshells)",
            total / ticks - sum(r[1] for r in rows),
        )
    )
    rows.append(("all", total / ticks))
    _stop(proc)
    return rows


DESIGNS: dict[str, Measure] = {
    "clustertop probe, persistent (host screen closed: full process scan every 30 ticks)": (
        persistent(False)
    ),
    "clustertop probe, persistent (host screen open: full process scan every tick)": (
        persistent(True)
    ),
    "clustertop probe started afresh every tick (one frame; the benchmark's probe-one-shot)": (
        one_shot_probe
    ),
    "plain command line started every tick (what pdsh, clush and exec-per-tick run)": plain,
}
"""Design name -> how to measure its CPU ms per tick."""


def _kill_group(group: CpuGroup) -> None:
    for pid in group.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticks", type=int, default=60)
    parser.add_argument(
        "--breakdown", action="store_true", help="the persistent probe's CPU per process instead"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ctbench-probecost-"))
    root = CpuGroup(cgroups.CPUACCT / f"ctbench-probecost-{os.getpid()}").create()
    standin_group = CpuGroup(root.path / "standins").create()
    try:
        stand = standins.install(work / "standins")
        if args.breakdown:
            group = CpuGroup(root.path / "d-breakdown").create()
            print(f"| process of the persistent probe | CPU per tick (ms), {args.ticks} ticks |")
            print("| --- | ---: |")
            for name, ms in breakdown(stand, group, args.ticks):
                print(f"| {name} | {ms:.2f} |")
            return
        print(f"| way of collecting | remote CPU per tick (ms), {args.ticks} ticks |")
        print("| --- | ---: |")
        for index, (name, measure) in enumerate(DESIGNS.items()):
            group = CpuGroup(root.path / f"d{index}").create()
            print(f"| {name} | {measure(stand, group, args.ticks):.1f} |", flush=True)
            _kill_group(group)
            _kill_group(standin_group)  # samplers of a probe that did not stop
    finally:
        for group in (*[CpuGroup(p) for p in root.path.glob("d*")], standin_group):
            _kill_group(group)
        root.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
