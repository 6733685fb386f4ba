"""AMD hosts over real SSH: one with AMD GPUs only, one with both vendors, end to end."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import MIB
from clustertop.ui.screens.free import FreeGpusScreen
from clustertop.ui.screens.host import HostScreen
from tests.fleet.amd_host import GIB, MI210, SECOND, amd_fleet_hosts, sleeper
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import gpu_uuid
from tests.ssh.helpers import run_once
from tests.ui.helpers import cell_text, until
from tests.ui_actions.helpers import fleet_app

__all__ = ["sleeper"]  # the fixture, used here by name

L40S_MEMORY = 46068 * MIB


@pytest.fixture
def amd_hosts(fleet: Fleet, sleeper: subprocess.Popen[bytes]) -> Iterator[tuple[str, ...]]:
    """amd1: two MI210s, the busy one used by `sleeper`; mixed1: an L40S and the same two."""
    processes = [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}]
    amd = {"mode": "banner", "gpus": [MI210, SECOND], "processes": processes}
    with amd_fleet_hosts(fleet, amd, {"amd1": {}, "mixed1": {"nvidia": True}}) as names:
        yield names


def _amd_gpu(index: int, facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "index": index,
        "uuid": facts["bus"],
        "name": "AMD Instinct MI210",
        "util_percent": float(facts["util"]),
        "memory_used": facts["vram_used"],
        "memory_total": 65520 * MIB,
        "temperature_c": 61.0,
        "power_w": 287.0,
        "power_limit_w": 300.0,
        "fan_percent": None,
        "memory_util_percent": 0.0,
        "bus_id": facts["bus"],
        "ecc_uncorrected": None,
        "mig_mode": None,
        "error": None,
        "vendor": "amd",
        "mig_instances": [],
        "mig_error": None,
        "reading_age_s": None,  # sysfs: read this tick
    }


def test_amd_and_mixed_hosts_once_json(
    fleet: Fleet, amd_hosts: tuple[str, str], sleeper: subprocess.Popen[bytes]
) -> None:
    result = run_once(fleet, *amd_hosts)
    assert result.returncode == 0, result.stderr
    amd1, mixed = result.host("amd1"), result.host("mixed1")
    assert amd1["gpu_error"] is None and mixed["gpu_error"] is None
    assert amd1["gpus"] == [_amd_gpu(0, MI210), _amd_gpu(1, SECOND)]
    nvidia = mixed["gpus"][0]
    assert (nvidia["vendor"], nvidia["name"], nvidia["index"]) == ("nvidia", "NVIDIA L40S", 0)
    assert nvidia["uuid"] == gpu_uuid("mixed1", 0)
    assert mixed["gpus"][1:] == [_amd_gpu(0, MI210), _amd_gpu(1, SECOND)]
    for host in (amd1, mixed):
        (proc,) = host["gpu_processes"]
        assert (proc["pid"], proc["gpu_index"], proc["gpu_uuid"]) == (sleeper.pid, 0, MI210["bus"])
        assert proc["memory_used"] == 3 * GIB
        assert "time.sleep(300)" in proc["command"] and proc["user"] == "root"
        assert proc["owner"] == "root"
    free = {(f["host"], f["vendor"]): f for f in result.doc["free_gpus"]}
    assert free[("amd1", "amd")]["ready_line"] == "ssh amd1 HIP_VISIBLE_DEVICES=1"
    assert free[("mixed1", "amd")]["ready_line"] == "ssh mixed1 HIP_VISIBLE_DEVICES=1"
    assert free[("mixed1", "nvidia")]["ready_line"] == "ssh mixed1 CUDA_VISIBLE_DEVICES=0"
    assert free[("mixed1", "nvidia")]["memory_free"] == L40S_MEMORY
    summary = result.doc["summary"]
    assert (summary["gpus"], summary["gpus_busy"], summary["gpus_free"]) == (5, 2, 3)


def test_a_failing_amd_smi_is_a_clear_error_over_ssh(
    fleet: Fleet, amd_hosts: tuple[str, str]
) -> None:
    spec_path = fleet.root / "amd-amd1" / "amd.json"
    amd = json.loads(spec_path.read_text())
    spec_path.write_text(json.dumps({**amd, "mode": "fail"}))
    result = run_once(fleet, "amd1")
    host = result.host("amd1")
    assert host["gpu_error"] == (
        "AMD: amd-smi static: exit 1: WARNING: User is missing the following required groups: "
        "render, video. Please add user to these groups."
    )
    assert [(g["name"], g["util_percent"]) for g in host["gpus"]] == [
        ("AMD GPU", 97.0),
        ("AMD GPU", 0.0),
    ]


async def test_the_tui_shows_both_vendors_of_a_mixed_host(
    fleet: Fleet, amd_hosts: tuple[str, str], sleeper: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    async with fleet_app(fleet, ["mixed1"], tmp_path / "audit.jsonl") as (app, pilot):
        await until(lambda: len(app.live.store.get("mixed1").gpus) == 3, "mixed1's three GPUs")
        app.go_to_host("mixed1")
        await until(
            lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "the host screen"
        )
        await pilot.pause()  # let the new screen finish mounting before anything else
        screen = app.screen
        assert isinstance(screen, HostScreen)
        await until(lambda: screen.current_table.row_count == 3, "three GPU rows")
        table = screen.current_table
        assert cell_text(table, MI210["bus"], "name") == "AMD · AMD Instinct MI210"
        assert cell_text(table, gpu_uuid("mixed1", 0), "name") == "NVIDIA · NVIDIA L40S"
        assert cell_text(table, MI210["bus"], "users") == "root"
        await pilot.press("2")
        await until(lambda: screen.current_table.row_count == 1, "one GPU process")
        [row] = list(screen.current_table.rows)
        assert cell_text(screen.current_table, row.value, "gpu") == "A0"
        await pilot.press("escape")
        app.action_show_free()
        await until(
            lambda: isinstance(app.screen, FreeGpusScreen) and app.screen.is_mounted, "free view"
        )
        await pilot.pause()
        free = app.screen
        assert isinstance(free, FreeGpusScreen)
        nvidia_row = json.dumps(["mixed1", gpu_uuid("mixed1", 0)])
        amd_row = json.dumps(["mixed1", SECOND["bus"]])
        await until(lambda: free.table.row_count == 2, "two free GPUs")
        assert cell_text(free.table, nvidia_row, "ready") == "ssh mixed1 CUDA_VISIBLE_DEVICES=0"
        assert cell_text(free.table, amd_row, "ready") == "ssh mixed1 HIP_VISIBLE_DEVICES=1"
