"""`clustertop --once --json` over the loopback fleet reports the hosts' real values exactly."""

from __future__ import annotations

import os
from pathlib import Path

from clustertop.model import MIB
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.ssh.helpers import run_once

BUSY = ("sh", "-c", "while :; do :; done")


def _meminfo_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def test_values_equal_real_host_and_stand_in(clean_fleet: Fleet) -> None:
    h1 = clean_fleet["h1"]
    engine = h1.docker
    assert engine is not None
    train = engine.run_container("alice-train", *BUSY)
    labelled = engine.run_container("job-42", "sleep", "600", labels={"owner": "dana"})
    done = engine.run_container("bob-eval", "sh", "-c", "exit 3", detach=False)
    h1.set_gpu_spec(
        spec(
            [
                gpu("h1", 0, H200, **{"utilization.gpu": "37", "temperature.gpu": "61"}),
                gpu("h1", 1, H200, **{"utilization.gpu": "0", "memory.used": "0"}),
            ],
            [
                {"gpu": 0, "container": "alice-train", "used_memory_mib": 4000},
                {"gpu": 0, "container": "job-42", "used_memory_mib": 1500},
            ],
        )
    )
    result = run_once(clean_fleet, "h1", "h2")
    assert result.returncode == 0, result.stderr
    host = result.host("h1")
    assert host["state"] == "up" and host["error"] is None

    assert host["memory"]["total"] == _meminfo_total()
    assert 0 <= host["cpu_percent"] <= 100
    assert len(host["load"]) == 3

    root = next(d for d in host["disks"] if d["mount"] == "/")
    vfs = os.statvfs("/")
    assert root["total"] == vfs.f_blocks * vfs.f_frsize
    # Other tests write files meanwhile: used/available move a little between the two reads.
    assert abs(root["available"] - vfs.f_bavail * vfs.f_frsize) < 512 * MIB

    gpus = {g["index"]: g for g in host["gpus"]}
    assert gpus[0]["name"] == "NVIDIA H200"
    assert gpus[0]["uuid"] == gpu("h1", 0)["uuid"]
    assert gpus[0]["util_percent"] == 37
    assert gpus[0]["temperature_c"] == 61
    assert gpus[0]["memory_used"] == 5500 * MIB  # "auto": the sum of its processes
    assert gpus[0]["memory_total"] == 143771 * MIB  # the real H200 capture
    assert gpus[0]["power_w"] == 627.40
    assert gpus[0]["power_limit_w"] == 700.00
    assert gpus[1]["memory_used"] == 0

    procs = {p["pid"]: p for p in host["gpu_processes"]}
    train_pid = engine.container_pid("alice-train")
    assert procs[train_pid]["container"] == {"id": train, "name": "alice-train"}
    assert procs[train_pid]["owner"] == "alice"
    assert procs[train_pid]["memory_used"] == 4000 * MIB
    assert procs[train_pid]["gpu_uuid"] == gpu("h1", 0)["uuid"]
    assert procs[train_pid]["user"] == "root"
    job_pid = engine.container_pid("job-42")
    assert procs[job_pid]["owner"] == "dana"  # the owner label beats the name

    containers = {c["name"]: c for c in host["containers"]}
    assert containers["alice-train"]["id"] == train
    assert containers["alice-train"]["state"] == "running"
    assert containers["alice-train"]["owner"] == "alice"
    assert containers["alice-train"]["gpus"] == [0]
    assert containers["job-42"]["id"] == labelled and containers["job-42"]["owner"] == "dana"
    assert containers["bob-eval"]["id"] == done
    assert containers["bob-eval"]["state"] == "exited"
    assert containers["bob-eval"]["exit_code"] == 3
    assert containers["bob-eval"]["owner"] == "bob"
    assert containers["bob-eval"]["cpu_percent"] is None
    # The busy loop burns what it gets of a core: on this shared 2-core machine under load that
    # can be little, but never nothing, and never more than the machine has.
    assert 5 < containers["alice-train"]["cpu_percent"] <= 100 * os.cpu_count()
    assert containers["alice-train"]["memory_used"] > 0

    other = result.host("h2")
    assert other["state"] == "up"
    assert [g["name"] for g in other["gpus"]] == ["NVIDIA L40S"]
    assert other["containers"] == []


def test_driver_failures_are_the_gpu_sections_error(clean_fleet: Fleet) -> None:
    clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)], mode="no-driver"))
    clean_fleet["h2"].set_gpu_spec(spec([gpu("h2", 0)], mode="mismatch"))
    clean_fleet["h3"].set_gpu_spec(spec([gpu("h3", 0), gpu("h3", 1)], mode="lost-gpu"))
    result = run_once(clean_fleet, "h1", "h2", "h3")
    h1, h2, h3 = (result.host(n) for n in ("h1", "h2", "h3"))
    assert "NVIDIA driver not loaded" in h1["gpu_error"]
    assert h1["gpus"] == [] and h1["memory"] is not None and h1["disks"]
    assert "mismatch" in h2["gpu_error"].lower()
    assert [g["index"] for g in h3["gpus"] if g["error"] is None] == [1]
    assert "Unable to determine the device handle" in (h3["gpu_error"] or "")


def test_docker_missing_denied_and_down(fleet: Fleet, spare_host: object) -> None:
    result = run_once(fleet, "h1-ctuser", "spare")
    denied = result.host("h1-ctuser")
    assert denied["state"] == "up"
    assert "permission denied" in denied["docker_error"]
    assert denied["gpus"], "the other sections still work"
    down = result.host("spare")
    assert "not running" in down["docker_error"]
    assert down["memory"] is not None
