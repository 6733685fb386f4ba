"""Pods over SSH, end to end: processes in real kernel cgroups of containerd and CRI-O pods.

The stand-in nvidia-smi lists them as GPU processes; the probe reads their /proc/<pid>/cgroup.
The pod on an idle GPU is stale in `--once --json` and counted for its owner; the busy one not.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.ssh.helpers import run_once
from tests.test_local_attribution import placed  # noqa: F401  (the real-cgroup fixture)


def _slice(pod: str) -> str:
    return f"kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{pod.replace('-', '_')}"


def test_an_idle_pod_is_stale_and_a_busy_one_is_not(clean_fleet: Fleet, placed: Any) -> None:  # noqa: F811
    idle, busy = str(uuid.uuid4()), str(uuid.uuid4())
    idle_pid = placed(f"{_slice(idle)}.slice/cri-containerd-{secrets.token_hex(32)}.scope")
    busy_pid = placed(f"{_slice(busy)}.slice/crio-{secrets.token_hex(32)}.scope")
    h1 = clean_fleet["h1"]
    gpus = [gpu("h1", 0, H200), gpu("h1", 1, H200, **{"utilization.gpu": "87"})]
    h1.set_gpu_spec(
        spec(
            gpus,
            [
                {"gpu": 0, "pid": idle_pid, "used_memory_mib": 1200},
                {"gpu": 1, "pid": busy_pid, "used_memory_mib": 900},
            ],
        )
    )
    result = run_once(clean_fleet, "h1", args=("--stale-after", "0"), timeout=10)
    assert result.returncode == 0, result.stderr
    kinds = {p["pid"]: p["attribution"] for p in result.host("h1")["gpu_processes"]}
    assert (kinds[idle_pid]["kind"], kinds[idle_pid]["id"]) == ("pod", idle)
    assert (kinds[busy_pid]["kind"], kinds[busy_pid]["id"]) == ("pod", busy)
    (stale,) = result.doc["pods_stale"]
    assert (stale["host"], stale["id"], stale["owner"], stale["gpus"]) == ("h1", idle, idle, [0])
    users = {row["owner"]: row for row in result.doc["users"]}
    assert (users[idle]["pods_stale"], users[busy]["pods_stale"]) == (1, 0)
    assert users[idle]["containers_stale"] == 0
