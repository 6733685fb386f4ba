"""Cheap stand-ins for nvidia-smi and docker that replay recorded output, and their data.

The GPU rows are what the test fleet's stand-in nvidia-smi (tests/fleet/fake_nvidia_smi.py, real
captures shaped by a spec) prints; here a sh script only replays them, since a Python start per
call would add tens of milliseconds to every peer's sweep on this 2-core machine.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fleet import fake_nvidia_smi, gpu_specs
from tests.realdata import fixture

from clustertop.parsers.nvidia_smi import APPS_QUERY_FIELDS, GPU_QUERY_FIELDS
from clustertop.sources.ssh.probe import PROBE_APPS_FIELDS, PROBE_GPU_FIELDS

GPU_CAPTURE = "nvidia-smi-csv/h200-load-allfields-drv590.csv"
"""Real `--query-gpu` capture the GPU rows come from (an H200 under gpu-burn)."""
APPS_CAPTURE = "nvidia-smi-csv/h100-mig-load-compute-apps.csv"
"""Real `--query-compute-apps` capture the GPU process rows come from."""
INSPECT_CAPTURES = (
    "docker/inspect-container-node-overlay2-2019.json",
    "docker/inspect-container-redis-compose-btrfs-springboot.json",
    "docker/inspect-container-redis-host-network-springboot.json",
)
"""Real `docker inspect` captures the container lines come from."""
GPUS_PER_HOST = 8
CONTAINERS_PER_HOST = 6
FORMAT = "--format=csv,noheader,nounits"

NVIDIA_SMI = """#!/bin/sh
# Benchmark stand-in nvidia-smi: replays what tests/fleet/fake_nvidia_smi.py printed.
# Moves itself into the stand-in accounting group first, so its cost is reported apart.
[ -n "$CTB_STANDIN_CG" ] && echo $$ >"$CTB_STANDIN_CG" 2>/dev/null
ms=""
prev=""
for a; do
	[ "$prev" = -lms ] && ms=$a
	prev=$a
done
stamp=0
case "$1" in
@CASES@
*)
	echo "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help."
	exit 2
	;;
esac
sample() { # one sample; compute-apps rows start with the time of the sample when asked
	if [ "$stamp" = 1 ]; then # one write per sample, as nvidia-smi flushes a whole sample
		t=$(date '+%Y/%m/%d %H:%M:%S.%3N')
		out=""
		while IFS= read -r row; do out="$out$t, $row
"; done <"$CTB_DATA/$f"
		printf '%s' "$out"
	else
		cat "$CTB_DATA/$f"
	fi
}
sample
[ -n "$ms" ] || exit 0
# -lms N: a sample every N ms until killed, as the real one does.
s=$((ms / 1000)).$(printf %03d $((ms % 1000)))
while sleep "$s"; do sample; done
"""
"""The nvidia-smi stand-in (@CASES@ filled in by install): the queries the probe and the peers
make, once or every N ms with -lms N."""

DOCKER = """#!/bin/sh
# Benchmark stand-in docker CLI: replays recorded real `docker inspect` data.
[ -n "$CTB_STANDIN_CG" ] && echo $$ >"$CTB_STANDIN_CG" 2>/dev/null
case "$1" in
ps) exec cat "$CTB_DATA/docker-ids.txt" ;;
inspect) exec cat "$CTB_DATA/docker-inspect.txt" ;;
events) exec sleep 2147483647 ;; # no container ever changes: block, printing nothing
esac
echo "docker stand-in: unsupported command $1" >&2
exit 1
"""
"""The docker stand-in: `ps -a -q --no-trunc`, `inspect --format <template> IDS`, `events`."""

PEER_GPU_FIELDS = GPU_QUERY_FIELDS
"""The GPU fields the peers ask for: clustertop's, without the probe's leading `count`."""
PEER_APPS_FIELDS = APPS_QUERY_FIELDS
"""The compute-apps fields the peers ask for: clustertop's, without the leading `timestamp`."""


def _apps_capture() -> list[dict[str, str]]:
    """Rows of the real compute-apps capture as {field (unit dropped): value}."""
    rows = list(csv.reader(io.StringIO(fixture(APPS_CAPTURE).read_text()), skipinitialspace=True))
    fields = [re.sub(r"\s*\[[^\]]*\]$", "", name.strip()) for name in rows[0]]
    return [dict(zip(fields, (cell.strip() for cell in row), strict=False)) for row in rows[1:]]


def _gpu_uuid(index: int) -> str:
    return f"GPU-00000000-0000-0000-0000-{index:012d}"


def gpu_spec() -> dict[str, Any]:
    """The fleet stand-in's spec of one host: 8 real H200s under load, the real GPU processes."""
    # The H200 capture is masked to zeros: one UUID and bus per GPU here.
    gpus = [
        {
            "template": gpu_specs.H200,
            "uuid": _gpu_uuid(i),
            "pci.bus_id": f"00000000:{0x18 + 0x10 * i:02X}:00.0",
        }
        for i in range(GPUS_PER_HOST)
    ]
    apps = [
        {
            "gpu": number,
            "pid": int(app["pid"]),
            "process_name": app["process_name"],
            "used_memory_mib": int(app["used_gpu_memory"].split()[0]),
        }
        for number, app in enumerate(_apps_capture())
    ]
    return gpu_specs.spec(gpus, apps)


def nvidia_smi_output(argv: list[str], spec: dict[str, Any]) -> str:
    """What the fleet's stand-in nvidia-smi (tests/fleet/fake_nvidia_smi.py) prints for `argv`."""
    lines, status = fake_nvidia_smi.render(fake_nvidia_smi.parse_args(argv), spec, first=True)
    if status != 0:
        raise RuntimeError(f"stand-in nvidia-smi {' '.join(argv)} failed: {lines}")
    return "".join(line + "\n" for line in lines)


def gpu_rows(fields: tuple[str, ...] = PROBE_GPU_FIELDS) -> str:
    """`--query-gpu=<fields> --format=csv,noheader,nounits` for 8 GPUs of the real H200."""
    return nvidia_smi_output([f"--query-gpu={','.join(fields)}", FORMAT], gpu_spec())


def app_rows() -> str:
    """`--query-compute-apps=gpu_uuid,pid,used_memory,process_name` from the real capture.

    The probe also asks for a leading `timestamp`; the replaying script adds it per sample.
    """
    argv = [f"--query-compute-apps={','.join(PEER_APPS_FIELDS)}", FORMAT]
    return nvidia_smi_output(argv, gpu_spec())


def _inspect_line(doc: dict[str, Any], number: int, log_dir: Path) -> tuple[str, str]:
    """(id, the line `docker inspect --format "{{.Id}} {{.State.Pid}} {{.LogPath}} TPL"` prints)."""
    cid = f"{number:02x}" + doc["Id"][2:]
    log = log_dir / f"{cid}-json.log"
    line = {
        "Id": cid,
        "Name": f"{doc['Name']}-{number}",
        "Created": doc["Created"],
        "Config": {"Image": doc["Config"]["Image"], "Labels": doc["Config"].get("Labels")},
        "State": doc["State"],
        "HostConfig": {"DeviceRequests": doc["HostConfig"].get("DeviceRequests")},
        "LogPath": str(log),
    }
    rendered = json.dumps(line, separators=(",", ":"))
    return cid, f"{cid} {doc['State'].get('Pid', 0)} {log} {rendered}"


def docker_data(log_dir: Path) -> tuple[str, str]:
    """(`docker ps -a -q --no-trunc` output, `docker inspect --format` output), 6 containers."""
    docs = []
    for name in INSPECT_CAPTURES:
        loaded = json.loads(fixture(name).read_text())
        docs.append(loaded[0] if isinstance(loaded, list) else loaded)
    ids, lines = [], []
    log_dir.mkdir(parents=True, exist_ok=True)
    for number in range(CONTAINERS_PER_HOST):
        cid, line = _inspect_line(docs[number % len(docs)], number, log_dir)
        (log_dir / f"{cid}-json.log").write_text("{}\n" * (number + 1))
        ids.append(cid)
        lines.append(line)
    return "\n".join(ids) + "\n", "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StandIns:
    """Where the stand-ins and their data live; every simulated host shares them."""

    bin_dir: Path
    """First folder on every simulated host's PATH: nvidia-smi, docker."""
    data_dir: Path
    """Replayed outputs ($CTB_DATA)."""

    @property
    def path(self) -> str:
        """PATH of a simulated host: the stand-ins first."""
        return f"{self.bin_dir}:/usr/local/bin:/usr/bin:/bin"

    def env(self, home: Path, standin_group: Path | None = None) -> dict[str, str]:
        """A simulated host's environment for a process run here (no SSH)."""
        env = {
            "PATH": self.path,
            "HOME": str(home),
            "CTB_DATA": str(self.data_dir),
            "LC_ALL": "C",
        }
        if standin_group is not None:
            env["CTB_STANDIN_CG"] = str(standin_group)
        return env


def _query_cases() -> str:
    """The stand-in's `case` branches: each query it answers, and the file holding the rows."""
    queries = [
        (f"--query-gpu={','.join(PROBE_GPU_FIELDS)}", "gpu-probe.csv", 0),
        (f"--query-gpu={','.join(PEER_GPU_FIELDS)}", "gpu-peer.csv", 0),
        (f"--query-compute-apps={','.join(PROBE_APPS_FIELDS)}", "apps.csv", 1),
        (f"--query-compute-apps={','.join(PEER_APPS_FIELDS)}", "apps.csv", 0),
    ]
    assert ("timestamp", *PEER_APPS_FIELDS) == PROBE_APPS_FIELDS
    return "\n".join(f'"{q}") f={name} stamp={stamp} ;;' for q, name, stamp in queries)


def install(folder: Path) -> StandIns:
    """Write the two stand-in scripts and their recorded data below `folder`."""
    bin_dir, data_dir = folder / "bin", folder / "data"
    for path in (bin_dir, data_dir):
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o755)
    (data_dir / "gpu-probe.csv").write_text(gpu_rows(PROBE_GPU_FIELDS))
    (data_dir / "gpu-peer.csv").write_text(gpu_rows(PEER_GPU_FIELDS))
    (data_dir / "apps.csv").write_text(app_rows())
    ids, inspect = docker_data(data_dir / "logs")
    (data_dir / "docker-ids.txt").write_text(ids)
    (data_dir / "docker-inspect.txt").write_text(inspect)
    nvidia_smi = NVIDIA_SMI.replace("@CASES@", _query_cases())
    for name, text in (("nvidia-smi", nvidia_smi), ("docker", DOCKER)):
        script = bin_dir / name
        script.write_text(text)
        script.chmod(0o755)
    return StandIns(bin_dir, data_dir)
