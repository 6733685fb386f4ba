"""Experiment: the probe's CPU per tick on a Slurm node with its slurm section on and off.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.slurm_cost [--ticks 150] [--rounds 3]

Starts a test Slurm (tests/slurm/cluster.py, needs root) with one running job, then runs the
probe locally (no SSH) alternately with scontrol found (the section on: a glob of the node's job
cgroups every tick, scontrol per job when they change and every 30 ticks) and with an scontrol
that is not installed (the section off, as on a host without Slurm). CPU is the probe shell's
own plus every descendant it reaped (os.wait4), past its start-up and first two frames.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.slurm.cluster import SlurmCluster, wait_running

from clustertop.sources.ssh.probe import ProbeSettings, probe_script

MARKER = "@ctslurmcost"
GAP_S = 0.1


def _cpu_of_run(env: dict[str, str], scontrol: str, ticks: int) -> float:
    """CPU seconds of `ticks` ticks of one probe (start-up and two first frames excluded)."""
    settings = ProbeSettings(marker=MARKER, sample_ms=200, scontrol=scontrol)
    proc = subprocess.Popen(
        ["/bin/sh", "-s"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(probe_script(settings).encode())
    proc.stdin.flush()
    proc.stdout.readline()
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    start_usage = None
    for seq in range(1, ticks + 3):
        proc.stdin.write(f"t {seq} 0\n".encode())
        proc.stdin.flush()
        time.sleep(GAP_S)
        if seq == 2:
            start_usage = _self_cpu(proc.pid)
    proc.stdin.close()
    _, _, usage = os.wait4(proc.pid, 0)
    total = usage.ru_utime + usage.ru_stime
    return total - (start_usage or 0.0)


def _self_cpu(pid: int) -> float:
    # The shell's own and its reaped children's CPU so far (fields 14-17 of /proc/PID/stat).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    hz = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / hz


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ct-slurm-"))
    root.chmod(0o755)
    cluster = SlurmCluster(root)
    cluster.start()
    try:
        job = cluster.submit("--gres=gpu:1", wrap="exec sleep 600")
        wait_running(cluster, job)
        env = cluster.env
        figures: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(args.rounds):
            for label, scontrol in (("on", "scontrol"), ("off", "ct-no-such-scontrol")):
                cpu = _cpu_of_run(env, scontrol, args.ticks)
                figures[label].append(cpu / args.ticks * 1000)
        on, off = (sum(v) / len(v) for v in (figures["on"], figures["off"]))
        print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
        for label, values in figures.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"slurm section {label}: ms CPU per tick: {shown}")
        print(f"on / off: {on / off:.3f}")
        cluster.cancel(job)
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
