"""Experiment behind ANALYSIS.md: where clustertop's client time goes.

    .venv/bin/python -m benchmarks.experiments profile --hosts 500    # needs py-spy in .venv

It runs clustertop's driver against the fake-host server and samples it with py-spy during cold
start and during the steady window, then prints where the time goes and the window's figures.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.fakehosts import FakeFleet
from benchmarks.harness import REPO, Settings, Target, python_env, runner_argv
from benchmarks.run import record_frames

CATEGORIES = [
    (r"sections\.py:(read_docker|_inspect_line|_log_sizes)|parsers/docker", "docker section parse"),
    (r"sections\.py:read_gpu|parsers/nvidia", "GPU section parse"),
    (r"sections\.py:(read_procs|_proc_row)|parsers/procfs|local_join", "process section parse"),
    (r"sections\.py:read_disks|parsers/df", "disk section parse"),
    (r"probe\.py:(parse_frame|split_parts)", "frame split"),
    (r"assemble\.py", "snapshot assembly (rest)"),
    (r"analysis/history", "history"),
    (r"known_hosts|public_key|crypto/ed|eddsa", "known_hosts parse + host key checks"),
    (r"asyncssh/config", "ssh_config parse"),
    (r"asyncssh/", "SSH transport (asyncssh, incl. crypto)"),
    (r"session\.py|source\.py|connect\.py", "clustertop session/connect code"),
    (r"ct_driver\.py:(sink|check|request_tick)|benchmarks/ticks", "benchmark sink"),
]
"""Stack frame pattern -> where the time goes; the innermost matching frame of a sample wins."""


def categorize(raw: Path) -> list[tuple[str, float]]:
    """py-spy raw (collapsed) samples -> [(category, share of samples)], largest first."""
    counts: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit() or "_worker (concurrent/futures" in stack:
            continue  # idle executor threads
        total += int(n)
        frames = [re.sub(r"^(.*) \((.*?)(?::\d+)?\)$", r"\2:\1", f) for f in stack.split(";")]
        counts[_category(frames)] += int(n)
    return [(name, n / max(1, total)) for name, n in counts.most_common()]


def _category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for pattern, name in CATEGORIES:
            if re.search(pattern, frame):
                return name
    return "event loop and interpreter"


def _spy(pid: int, out: Path) -> subprocess.Popen[bytes]:
    spy = str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [spy, "record", "-r", "50", "-f", "raw", "-o", str(out), "-p", str(pid)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_spy(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:
        spy.send_signal(signal.SIGINT)  # py-spy writes its profile on Ctrl-C
        spy.wait(timeout=60)


def profile(target: Target, settings: Settings, work: Path) -> dict[str, list[tuple[str, float]]]:
    """Sample the driver during cold start and during the window; categories per phase."""
    hosts_file = work / "hosts.txt"
    hosts_file.write_text("".join(h + "\n" for h in target.hosts))
    argv = runner_argv("clustertop", hosts_file, target, settings)
    env = python_env()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    spy: subprocess.Popen[bytes] | None = _spy(proc.pid, work / "cold.raw")
    try:
        for line in proc.stdout:
            event = json.loads(line)
            if event["ev"] == "cold":
                _stop_spy(spy)
                spy = None
            elif event["ev"] == "window_start":
                spy = _spy(proc.pid, work / "steady.raw")
            elif event["ev"] in ("window_end", "error"):
                _stop_spy(spy)
                spy = None
                print(json.dumps(event))
                break
    finally:
        _stop_spy(spy)
        proc.terminate()
        proc.wait(timeout=60)
    return {
        p: categorize(work / f"{p}.raw") for p in ("cold", "steady") if (work / f"{p}.raw").exists()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=("profile",))
    parser.add_argument("--hosts", type=int, default=500)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ctbench-exp-"))
    fleet = FakeFleet(Path("/tmp"), args.hosts)
    try:
        client = fleet.start(record_frames(work)[0])
        target = Target(fleet.addresses, client.ssh_config, client.known_hosts, "", "fake", None)
        settings = Settings()
        for phase, shares in profile(target, settings, work).items():
            print(f"\n{phase} (N = {args.hosts}): share of clustertop's CPU samples")
            for name, share in shares:
                print(f"  {100 * share:5.1f}%  {name}")
    finally:
        fleet.stop()
    print(f"work folder: {work}")


if __name__ == "__main__":
    main()
