"""`--once --json` over the loopback fleet: users, free GPUs and alerts are the fleet's real state.

h1 runs people's containers (names and an owner label) with GPU processes from the stand-in
nvidia-smi and one container that logs a few KiB; h2 has an idle GPU and a df that reports a
97% full /data; h3's driver is not loaded; `refused` refuses connections.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import MIB
from clustertop.util.units import human_bytes
from tests.fleet.fleet import REFUSED, Fleet
from tests.fleet.gpu_specs import H200, L40S, gpu, gpu_uuid, spec
from tests.fleet.simhost import SimHost
from tests.ssh.helpers import run_once
from tests.waiting import wait_for

L40S_MEMORY = 46068 * MIB
"""memory.total of the real L40S capture the stand-in reports for h2."""
BUSY = ("sh", "-c", "while :; do :; done")
LOG_LINES = 64
CHATTY = (
    "sh",
    "-c",
    f"i=0; while [ $i -lt {LOG_LINES} ]; do echo line $i of a chatty training job; "
    "i=$((i+1)); done; sleep 600",
)


def _df_stand_in(real_df: str) -> str:
    """A df for one simulated host: the probe's listing (`df -B1 -l --output=...`, or
    `df -P -T -B1 -l` where --output is missing) answers with a fixed capture, shaped as GNU df
    prints it; any other df is the real one.

    The first row is this test machine's own root as its df printed it; /data is a second
    disk at 97 % (used / (used + available), as df computes it).
    """
    return f"""#!/bin/sh
case " $* " in
*" --output="*)
    cat <<'EOF'
Filesystem     Type      1B-blocks         Used        Avail Use%  IUsed    IFree IUse% Mounted on
/dev/vda       ext4   270553174016  24524058624  84420235264  23% 452208 16325008    3% /
/dev/vdb       ext4  1000000000000 970000000000  30000000000  97%     11  6553589    1% /data
EOF
    ;;
*" -T "*)
    cat <<'EOF'
Filesystem     Type      1-blocks         Used    Available Capacity Mounted on
/dev/vda       ext4  270553174016  24524058624  84420235264      23% /
/dev/vdb       ext4 1000000000000 970000000000  30000000000      97% /data
EOF
    ;;
*) exec {real_df} "$@" ;;
esac
"""


@pytest.fixture
def full_disk_on_h2(clean_fleet: Fleet) -> Iterator[SimHost]:
    """h2 with the df stand-in first on its PATH; removed afterwards (the fleet is shared)."""
    real_df = shutil.which("df")
    assert real_df is not None
    h2 = clean_fleet["h2"]
    stand_in = h2.bin_dir / "df"
    stand_in.write_text(_df_stand_in(real_df))
    stand_in.chmod(0o755)
    try:
        yield h2
    finally:
        stand_in.unlink()


def _chatty_log_written(h1: SimHost) -> bool:
    assert h1.docker is not None
    logs = h1.docker.cli("logs", "dana-logs", check=False).stdout
    return logs.count("chatty training job") == LOG_LINES


def _set_up_h1(h1: SimHost) -> None:
    engine = h1.docker
    assert engine is not None
    engine.run_container("alice-train", *BUSY)
    engine.run_container("bob-eval", "sleep", "600")
    engine.run_container("job-7", "sleep", "600", labels={"owner": "carol"})
    engine.run_container("dana-logs", *CHATTY)
    engine.run_container("eve-old", "sh", "-c", "exit 0", detach=False)  # exited: not counted
    h1.set_gpu_spec(
        spec(
            [
                gpu("h1", 0, H200, **{"utilization.gpu": "60", "temperature.gpu": "41"}),
                gpu("h1", 1, H200, **{"utilization.gpu": "0", "temperature.gpu": "44"}),
            ],
            [
                {"gpu": 0, "container": "alice-train", "used_memory_mib": 4000},
                {"gpu": 1, "container": "bob-eval", "used_memory_mib": 2000},
            ],
        )
    )
    wait_for(lambda: _chatty_log_written(h1), what="dana-logs to write its log")


def _user(owner: str, **values: Any) -> dict[str, Any]:
    row = {
        "owner": owner,
        "gpus": 0,
        "gpu_memory": 0,
        "mean_util": None,
        "containers_running": 1,
        "containers_stale": 0,
        "processes": 0,
        "hosts": ["h1"],
        "jobs": 0,
        "jobs_stale": 0,
        "pods_stale": 0,
    }
    return {**row, **values}


def test_users_free_gpus_and_alerts_are_the_fleets_real_state(
    clean_fleet: Fleet, full_disk_on_h2: SimHost, tmp_path: Path
) -> None:
    _set_up_h1(clean_fleet["h1"])
    clean_fleet["h2"].set_gpu_spec(spec([gpu("h2", 0, L40S, **{"temperature.gpu": "38"})]))
    clean_fleet["h3"].set_gpu_spec(spec([gpu("h3", 0)], mode="no-driver"))
    config = tmp_path / "clustertop.toml"
    config.write_text('alert_log_size = "1KiB"\n')
    result = run_once(clean_fleet, "h1", "h2", "h3", REFUSED, args=["--config", str(config)])
    assert result.returncode == 0, result.stderr
    doc = result.doc

    h1_gpu_processes = next(h for h in doc["hosts"] if h["name"] == "h1")["gpu_processes"]
    assert doc["users"] == [
        _user("alice", gpus=1, gpu_memory=4000 * MIB, mean_util=60.0, processes=1),
        _user("bob", gpus=1, gpu_memory=2000 * MIB, mean_util=0.0, processes=1),
        _user("carol"),
        _user("dana"),
    ], json.dumps({"users": doc["users"], "h1 gpu_processes": h1_gpu_processes}, indent=1)

    free = gpu("h2", 0, L40S)
    assert doc["free_gpus"] == [
        {
            "host": "h2",
            "count": 1,
            "indices": [0],
            "uuids": [free["uuid"]],
            "memory_free": L40S_MEMORY,
            "gpus": [
                {
                    "index": 0,
                    "uuid": gpu_uuid("h2", 0),
                    "name": "NVIDIA L40S",
                    "memory_free": L40S_MEMORY,
                    "memory_total": L40S_MEMORY,
                    "vendor": "nvidia",
                    "mig": None,
                    "ready_line": None,
                }
            ],
            "mig_count": 0,
            "ready_line": "ssh h2 CUDA_VISIBLE_DEVICES=0",
            "vendor": "nvidia",
        }
    ]

    hosts = {host["name"]: host for host in doc["hosts"]}
    down = hosts[REFUSED]
    chatty = next(c for c in hosts["h1"]["containers"] if c["name"] == "dana-logs")
    assert chatty["log_size"] > 1024
    expected = [
        ("critical", REFUSED, "host-down", "", f"host {down['state']}: {down['error']}"),
        ("critical", "h3", "gpu-driver", "", f"GPUs unreadable: {hosts['h3']['gpu_error']}"),
        (
            "warning",
            "h1",
            "container-log",
            chatty["id"],
            f"container dana-logs log is {human_bytes(chatty['log_size'])}"
            " (docker logs can fill the disk)",
        ),
        ("warning", "h2", "disk-full", "/data", "/data 97% full (27.9 GiB free)"),
    ]
    # This machine's own disks, which h1 and h3 report as they are, alert only if nearly full.
    for name in ("h1", "h3"):
        for disk in hosts[name]["disks"]:
            share = 100 * disk["used"] / (disk["used"] + disk["available"])
            if share >= 90:
                free_text = human_bytes(disk["available"])
                message = f"{disk['mount']} {share:.0f}% full ({free_text} free)"
                expected.append(("warning", name, "disk-full", disk["mount"], message))
    rank = {"critical": 0, "warning": 1, "info": 2}
    expected.sort(key=lambda alert: (rank[alert[0]], *alert[1:4]))  # most urgent first
    got = [(a["severity"], a["host"], a["kind"], a["subject"], a["message"]) for a in doc["alerts"]]
    assert got == expected
    assert down["state"] in {"refused", "unreachable"}
    assert "NVIDIA driver" in hosts["h3"]["gpu_error"]
    assert doc["summary"]["alerts"] == len(expected)
    assert doc["owner"] is None

    # --owner keeps alice's hosts and rows only; alerts and free GPUs stay the fleet's.
    args = ["--config", str(config), "--owner", "alice"]
    mine = run_once(clean_fleet, "h1", "h2", "h3", REFUSED, args=args)
    assert mine.returncode == 0, mine.stderr
    assert mine.doc["owner"] == "alice"
    [h1] = mine.doc["hosts"]
    assert h1["name"] == "h1"
    assert [c["name"] for c in h1["containers"]] == ["alice-train"]
    assert [(p["owner"], p["memory_used"]) for p in h1["gpu_processes"]] == [("alice", 4000 * MIB)]
    alice_id = h1["containers"][0]["id"]
    assert all(
        (p["container"] or {}).get("id") == alice_id or p["user"] == "alice"
        for p in h1["processes"]
    )
    assert mine.doc["users"] == [doc["users"][0]]
    assert [a["kind"] for a in mine.doc["alerts"]] == [a["kind"] for a in doc["alerts"]]
    assert mine.doc["free_gpus"] == doc["free_gpus"]
