"""Over real SSH, an AMD host whose sysfs has no files (no /sys/class/drm): amd-smi or
rocm-smi alone give its GPUs, values and processes, end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fleet import fake_amd, hostbin
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import HostPlan
from tests.ssh.helpers import run_once
from tests.ssh.test_amd_fleet import GIB, IDLE, MI210, _amd_gpu, sleeper

__all__ = ["sleeper"]  # the fixture, shared with test_amd_fleet


def _tool_host(fleet: Fleet, name: str, spec: dict[str, Any], tool: str) -> None:
    root = fleet.root / f"amd-{name}"
    (root / "sys").mkdir(mode=0o755, parents=True)  # a sysfs root with nothing in it
    root.chmod(0o755)
    (root / "amd.json").write_text(json.dumps(spec))
    (root / "amd.json").chmod(0o644)
    env = {"CT_SYSFS_ROOT": str(root / "sys"), fake_amd.SPEC_ENV: str(root / "amd.json")}
    host = fleet.add_host(HostPlan(name, docker="absent", nvidia_smi=False, extra_env=env))
    hostbin.install_amd_tools(host.bin_dir, (tool,))


@pytest.fixture
def tool_hosts(fleet: Fleet, sleeper: subprocess.Popen[bytes]) -> Iterator[tuple[str, str]]:
    """amdsmi1: amd-smi only; rocm1: rocm-smi only; neither has sysfs files."""
    processes = [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}]
    spec = {"mode": "banner", "gpus": [MI210, IDLE], "processes": processes}
    names = []
    try:
        for name, tool in (("amdsmi1", "amd-smi"), ("rocm1", "rocm-smi")):
            _tool_host(fleet, name, spec, tool)
            names.append(name)
        yield ("amdsmi1", "rocm1")
    finally:
        for name in names:
            fleet.remove_host(name)
        for name in ("amdsmi1", "rocm1"):
            shutil.rmtree(fleet.root / f"amd-{name}", ignore_errors=True)


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
    assert read == [_amd_gpu(0, MI210), _amd_gpu(1, IDLE)]
    (proc,) = amdsmi["gpu_processes"]
    assert (proc["pid"], proc["gpu_index"], proc["gpu_uuid"]) == (sleeper.pid, 0, MI210["bus"])
    assert proc["memory_used"] == 3 * GIB and proc["owner"] == "root"
    assert "time.sleep(300)" in proc["command"] and proc["user"] == "root"
    free = {f["host"]: f for f in result.doc["free_gpus"]}
    assert free["amdsmi1"]["ready_line"] == "ssh amdsmi1 HIP_VISIBLE_DEVICES=1"
    assert free["rocm1"]["ready_line"] == "ssh rocm1 HIP_VISIBLE_DEVICES=1"
