"""Over real SSH, an AMD host whose sysfs has no files (no /sys/class/drm): amd-smi or
rocm-smi alone give its GPUs, values and processes, end to end."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.fleet.amd_host import GIB, MI210, SECOND, amd_fleet_hosts, sleeper
from tests.fleet.fleet import Fleet
from tests.ssh.helpers import run_once
from tests.ssh.test_amd_fleet import _amd_gpu

__all__ = ["sleeper"]  # the fixture, used here by name


@pytest.fixture
def tool_hosts(fleet: Fleet, sleeper: subprocess.Popen[bytes]) -> Iterator[tuple[str, ...]]:
    """amdsmi1: amd-smi only; rocm1: rocm-smi only; neither has sysfs files."""
    processes = [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}]
    spec = {"mode": "banner", "gpus": [MI210, SECOND], "processes": processes}
    tools = {
        "amdsmi1": {"tool": "amd-smi", "sysfs": False},
        "rocm1": {"tool": "rocm-smi", "sysfs": False},
    }
    with amd_fleet_hosts(fleet, spec, tools) as names:
        yield names


def test_tool_only_amd_hosts_once_json(
    fleet: Fleet, tool_hosts: tuple[str, str], sleeper: subprocess.Popen[bytes]
) -> None:
    result = run_once(fleet, *tool_hosts)
    assert result.returncode == 0, result.stderr
    amdsmi, rocm = result.host("amdsmi1"), result.host("rocm1")
    assert amdsmi["gpu_error"] is None and rocm["gpu_error"] is None
    # The tool's values are as old as its run (every 90 ticks): each GPU says so.
    for host in (amdsmi, rocm):
        ages = {gpu["reading_age_s"] for gpu in host["gpus"]}
        assert len(ages) == 1 and isinstance(age := ages.pop(), float) and 0 <= age < 60, ages
    read = [{**gpu, "reading_age_s": None} for gpu in amdsmi["gpus"]]
    assert read == [_amd_gpu(0, MI210), _amd_gpu(1, SECOND)]
    (proc,) = amdsmi["gpu_processes"]
    assert (proc["pid"], proc["gpu_index"], proc["gpu_uuid"]) == (sleeper.pid, 0, MI210["bus"])
    assert proc["memory_used"] == 3 * GIB and proc["owner"] == "root"
    assert "time.sleep(300)" in proc["command"] and proc["user"] == "root"
    free = {f["host"]: f for f in result.doc["free_gpus"]}
    assert free["amdsmi1"]["ready_line"] == "ssh amdsmi1 HIP_VISIBLE_DEVICES=1"
    assert free["rocm1"]["ready_line"] == "ssh rocm1 HIP_VISIBLE_DEVICES=1"
