"""Experiment: remote CPU per tick of the probe on an AMD host against an NVIDIA host.

    .venv/bin/python -m benchmarks.amd_cost [--ticks 180] [--amd-smi-ms 60] [--amd-metric-every N]

As benchmarks.probe_cost: the persistent probe runs here under /bin/sh in its own cpuacct
group, ticks every 0.2 s, with the stand-ins charged to a group of their own. The NVIDIA host
has 8 H200s and the recorded GPU processes (nvidia-smi stand-in excluded, as there). The AMD
host has 8 AMD GPUs in a fake amdgpu sysfs tree (CT_SYSFS_ROOT) with the same processes in the
KFD driver's list, no nvidia-smi, and an amd-smi stand-in that only counts its runs: each run is
charged --amd-smi-ms (one real amd-smi call costs 40-60 ms of CPU) instead of its own cost.
Two more AMD hosts: one without the KFD list (amd-smi process names the processes), one with
no DRM card in sysfs at all (a container, say), where amd-smi is the only source.
A run outside the measured ticks (the static run at tick 1, the next 900 ticks later) is not
charged: add --amd-smi-ms / 900 per tick for it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from tests.fleet import fake_amd

from benchmarks import cgroups, probe_cost, standins
from benchmarks.cgroups import CpuGroup
from clustertop.sources.ssh.probe import ProbeSettings, probe_script

AMD_SMI = """#!/bin/sh
# Benchmark stand-in amd-smi: counts its runs and replays recorded JSON (its cost is charged
# by the benchmark, not measured).
[ -n "$CTB_STANDIN_CG" ] && echo $$ >"$CTB_STANDIN_CG" 2>/dev/null
echo run >>"$CTB_DATA/amd-smi.runs"
cat "$CTB_DATA/amd-smi-$1.json"
"""


def _amd_host(stand: standins.StandIns, folder: Path, kfd: bool, sysfs: bool) -> dict[str, str]:
    """An AMD host's environment: bin folder (amd-smi, docker), sysfs tree (`sysfs` False: an
    empty root, no DRM card, as in a container: amd-smi is the only source), data."""
    spec = {
        "gpus": [
            {
                "card": f"card{index + 1}",
                "bus": f"0000:{0x18 + 0x10 * index:02x}:00.0",
                "name": "AMD Instinct MI300X",
                "util": 90,
                "vram_used": 100 << 30,
                "vram_total": 192 << 30,
                "temp": 55.0,
                "power": 600.0,
                "cap": 750.0,
            }
            for index in range(standins.GPUS_PER_HOST)
        ],
        "processes": [
            {"gpu": app["gpu"], "pid": app["pid"], "name": app["process_name"], "vram": 1 << 30}
            for app in standins.gpu_spec()["processes"]
        ],
        "kfd": kfd,
    }
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "amd-smi").write_text(AMD_SMI)
    (bin_dir / "amd-smi").chmod(0o755)
    (bin_dir / "docker").symlink_to(stand.bin_dir / "docker")
    data = folder / "data"
    shutil.copytree(stand.data_dir, data)
    (data / "amd-smi-static.json").write_text(json.dumps(fake_amd.amd_static(spec), indent=4))
    (data / "amd-smi-process.json").write_text(json.dumps(fake_amd.amd_process(spec), indent=4))
    (data / "amd-smi-metric.json").write_text(json.dumps(fake_amd.amd_metric(spec), indent=4))
    if sysfs:
        fake_amd.write_sysfs(folder / "sys", spec)
    else:
        (folder / "sys" / "class").mkdir(parents=True)
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(folder),
        "CTB_DATA": str(data),
        "LC_ALL": "C",
        "CT_SYSFS_ROOT": str(folder / "sys"),
    }


HOSTS = (
    (True, True, "sysfs + KFD process list: amd-smi static every 900 ticks"),
    (False, True, "sysfs, no KFD: amd-smi process every 90 ticks, static every 900"),
    (False, False, "no sysfs card: amd-smi metric every {every} ticks, process every 90"),
)
"""The AMD hosts measured: (KFD process list, sysfs cards, how the probe reads them)."""


def _runs(env: dict[str, str]) -> int:
    path = Path(env["CTB_DATA"]) / "amd-smi.runs"
    return len(path.read_text().split()) if path.exists() else 0


def amd_probe(
    env: dict[str, str], group: CpuGroup, ticks: int, amd_smi_ms: float, metric_every: int
) -> float:
    """The persistent probe on the AMD host: measured CPU plus amd-smi's runs, per tick."""
    standin_group = group.path.parent / "standins" / "cgroup.procs"
    proc = subprocess.Popen(
        ["sh", "-c", probe_cost.TRAMPOLINE, str(group.procs_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**env, "CTB_STANDIN_CG": str(standin_group)},
        bufsize=0,
        start_new_session=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    settings = ProbeSettings(
        marker=probe_cost.MARKER,
        sample_ms=round(probe_cost.GAP_S * 1000),
        amd_metric_every=metric_every,
    )
    proc.stdin.write(probe_script(settings).encode())
    proc.stdout.readline()
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    for seq in (1, 2):
        proc.stdin.write(f"t {seq} 1\n".encode())
        time.sleep(0.5)  # start-up and the first full scans: not per-tick cost
    start, runs = group.usage_ns(), _runs(env)
    probe_cost._tick(proc, ticks, False)
    used = (group.usage_ns() - start) / 1e6 + (_runs(env) - runs) * amd_smi_ms
    probe_cost._stop(proc)
    return used / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    # A multiple of 90: the 90-tick runs (amd-smi process, metric) fall evenly in the window.
    parser.add_argument("--ticks", type=int, default=180)
    parser.add_argument("--amd-smi-ms", type=float, default=60.0)
    parser.add_argument(
        "--amd-metric-every",
        type=int,
        default=ProbeSettings(marker="").amd_metric_every,
        help="ticks between amd-smi metric runs on the host without sysfs (default: the probe's)",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ctbench-amdcost-"))
    work.chmod(0o755)
    root = CpuGroup(cgroups.CPUACCT / f"ctbench-amdcost-{os.getpid()}").create()
    CpuGroup(root.path / "standins").create()
    try:
        stand = standins.install(work / "standins")
        print(f"| host | remote CPU per tick (ms), {args.ticks} ticks |")
        print("| --- | ---: |")
        group = CpuGroup(root.path / "d0").create()
        nvidia = probe_cost.persistent(False)(stand, group, args.ticks)
        print(f"| NVIDIA, 8 GPUs (nvidia-smi samplers) | {nvidia:.2f} |", flush=True)
        for index, (kfd, sysfs, how) in enumerate(HOSTS, start=1):
            env = _amd_host(stand, work / f"amd{index}", kfd, sysfs)
            group = CpuGroup(root.path / f"d{index}").create()
            cost = amd_probe(env, group, args.ticks, args.amd_smi_ms, args.amd_metric_every)
            label = how.format(every=args.amd_metric_every)
            print(f"| AMD, 8 GPUs ({label}) | {cost:.2f} ({cost / nvidia:.2f}x) |", flush=True)
    finally:
        for group in root.path.glob("d*"):
            probe_cost._kill_group(CpuGroup(group))
        probe_cost._kill_group(CpuGroup(root.path / "standins"))
        root.remove()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
