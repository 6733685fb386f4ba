"""The nvidia-smi stand-in, run as a program the way a simulated host runs it (no SSH)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fleet import gpu_specs
from tests.fleet.dockerd import DockerEngine
from tests.fleet.hostbin import install_nvidia_smi
from tests.realdata import fixture
from tests.waiting import wait_for

Smi = Callable[..., subprocess.CompletedProcess[str]]

TWO_H200 = gpu_specs.spec(
    [
        gpu_specs.gpu("t", 0, gpu_specs.H200, **{"utilization.gpu": "37", "temperature.gpu": "45"}),
        gpu_specs.gpu("t", 1, gpu_specs.H200),
    ],
    processes=[{"gpu": 1, "pid": 4242, "used_memory_mib": 1500, "process_name": "python"}],
)


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(TWO_H200))
    return path


@pytest.fixture
def smi(tmp_path: Path, spec_path: Path) -> Smi:
    """Runs the installed stand-in with CT_FAKE_GPU pointing at `spec_path`."""
    program = install_nvidia_smi(tmp_path / "bin")

    def run(
        *args: str,
        spec: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 20,
    ) -> subprocess.CompletedProcess[str]:
        if spec is not None:
            spec_path.write_text(json.dumps(spec))
        full_env = {**os.environ, "CT_FAKE_GPU": str(spec_path), **(env or {})}
        return subprocess.run(
            [str(program), *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
            check=False,
        )

    return run


def test_query_gpu_prints_spec_values_with_real_header_and_units(smi: Smi) -> None:
    out = smi(
        "--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,power.draw", "--format=csv"
    )
    lines = out.stdout.splitlines()
    assert out.returncode == 0
    assert (
        lines[0]
        == "index, uuid, utilization.gpu [%], memory.used [MiB], memory.total [MiB], power.draw [W]"
    )
    assert lines[1] == f"0, {gpu_specs.gpu_uuid('t', 0)}, 37 %, 0 MiB, 143771 MiB, 627.40 W"
    assert lines[2].startswith(f"1, {gpu_specs.gpu_uuid('t', 1)}, 0 %, 1500 MiB, ")


def test_noheader_nounits_gives_bare_values(smi: Smi) -> None:
    out = smi(
        "--query-gpu=index,memory.used,memory.free,temperature.gpu", "--format=csv,noheader,nounits"
    )
    # memory.free follows "auto" memory.used: total 143771 - reserved 614 - used.
    assert out.stdout.splitlines() == ["0, 0, 143157, 45", "1, 1500, 141657, 52"]


def test_unknown_field_is_rejected_like_the_real_tool(smi: Smi) -> None:
    out = smi("--query-gpu=index,xyz", "--format=csv")
    assert out.returncode == 2
    assert out.stdout == 'Field "xyz" is not a valid field to query.\n\n'


def test_old_driver_template_lacks_newer_fields(smi: Smi) -> None:
    old = gpu_specs.spec([gpu_specs.gpu("t", 0, gpu_specs.RTX_2080_DRV465)])
    out = smi("--query-gpu=index,compute_cap", "--format=csv", spec=old)
    assert out.returncode == 2
    assert 'Field "compute_cap"' in out.stdout


def test_aliases_and_renamed_fields_are_accepted(smi: Smi) -> None:
    out = smi(
        "--query-gpu=gpu_name,gpu_bus_id,clocks_throttle_reasons.active", "--format=csv,noheader"
    )
    assert out.stdout.splitlines()[0] == "NVIDIA H200, 00000000:18:00.0, 0x0000000000000000"


def test_compute_apps_lists_spec_processes(smi: Smi) -> None:
    out = smi("--query-compute-apps=gpu_uuid,pid,process_name,used_gpu_memory", "--format=csv")
    assert out.stdout.splitlines() == [
        "gpu_uuid, pid, process_name, used_gpu_memory [MiB]",
        f"{gpu_specs.gpu_uuid('t', 1)}, 4242, python, 1500 MiB",
    ]


def test_compute_apps_without_processes_is_header_only(smi: Smi) -> None:
    idle = gpu_specs.spec([gpu_specs.gpu("t", 0)])
    fields = "timestamp,gpu_name,gpu_bus_id,gpu_serial,gpu_uuid,pid,process_name,used_gpu_memory"
    out = smi(f"--query-compute-apps={fields}", "--format=csv", spec=idle)
    real = (fixture("nvidia-smi-csv/h200-idle-compute-apps-header-only.csv")).read_text()
    assert out.stdout == real


def test_list_and_id_selection(smi: Smi) -> None:
    assert smi("-L").stdout.splitlines() == [
        f"GPU 0: NVIDIA H200 (UUID: {gpu_specs.gpu_uuid('t', 0)})",
        f"GPU 1: NVIDIA H200 (UUID: {gpu_specs.gpu_uuid('t', 1)})",
    ]
    by_uuid = smi("-i", gpu_specs.gpu_uuid("t", 1), "--query-gpu=index", "--format=csv,noheader")
    assert by_uuid.stdout == "1\n"
    assert smi("--id=0", "--query-gpu=index", "--format=csv,noheader").stdout == "0\n"
    missing = smi("-i", "7", "-L")
    assert (missing.returncode, missing.stdout) == (6, "No devices were found\n")


def test_plain_call_replays_a_real_table(smi: Smi) -> None:
    out = smi()
    real = fixture("nvidia-smi-text/h200-load-processes-drv590.txt").read_text()
    assert out.returncode == 0
    assert out.stdout == real


def test_unsimulated_option_is_an_invalid_combination(smi: Smi) -> None:
    out = smi("-q")
    assert out.returncode == 2
    assert "Invalid combination of input arguments" in out.stdout


@pytest.mark.parametrize(
    ("mode", "status", "error_file"),
    [
        ("no-driver", 9, "nvidia-smi-driver-not-loaded-oneline.txt"),
        ("mismatch", 18, "nvidia-smi-nvml-driver-library-mismatch.txt"),
    ],
)
def test_driver_failures_print_the_real_text(
    smi: Smi, mode: str, status: int, error_file: str
) -> None:
    capture = fixture(f"errors/{error_file}")
    if not capture.is_file():
        pytest.skip(
            f"capture {error_file} is only in the shared fixture set (no licence to ship it)"
        )
    out = smi("--query-gpu=index", "--format=csv", spec={**TWO_H200, "mode": mode})
    real = capture.read_text().strip()
    assert (out.returncode, out.stdout) == (status, real + "\n")


def test_lost_gpu_names_its_bus_and_keeps_the_others(smi: Smi) -> None:
    out = smi(
        "--query-gpu=index,uuid", "--format=csv,noheader", spec={**TWO_H200, "mode": "lost-gpu"}
    )
    assert out.returncode == 15
    assert out.stdout.splitlines() == [
        "Unable to determine the device handle for GPU0000:18:00.0: Unknown Error",
        f"1, {gpu_specs.gpu_uuid('t', 1)}",
    ]


def test_hang_only_ends_when_killed(smi: Smi) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        smi("-L", spec={**TWO_H200, "mode": "hang"}, timeout=1.5)


def test_slow_mode_answers_after_its_delay(smi: Smi) -> None:
    started = time.monotonic()
    out = smi("-L", spec={**TWO_H200, "mode": "slow", "slow_seconds": 0.5})
    assert time.monotonic() - started >= 0.5
    assert (out.returncode, out.stdout.count("GPU ")) == (0, 2)


def test_loop_in_seconds_repeats(tmp_path: Path, spec_path: Path) -> None:
    program = install_nvidia_smi(tmp_path / "loopbin")
    env = {**os.environ, "CT_FAKE_GPU": str(spec_path)}
    argv = [str(program), "--query-gpu=index", "--format=csv,noheader", "-l", "1"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
        proc.kill()
    assert lines == ["0\n", "1\n", "0\n", "1\n"]


def test_spec_changes_apply_to_the_next_call(smi: Smi, spec_path: Path) -> None:
    first = smi("--query-gpu=utilization.gpu", "--format=csv,noheader,nounits")
    changed = json.loads(spec_path.read_text())
    changed["gpus"][0]["utilization.gpu"] = "99"
    second = smi("--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", spec=changed)
    assert (first.stdout.split()[0], second.stdout.split()[0]) == ("37", "99")


def test_loop_prints_header_once_then_a_row_per_tick(tmp_path: Path, spec_path: Path) -> None:
    program = install_nvidia_smi(tmp_path / "loopbin")
    env = {**os.environ, "CT_FAKE_GPU": str(spec_path)}
    argv = [str(program), "--query-gpu=index,utilization.gpu", "--format=csv,nounits", "-lms", "50"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]
        proc.kill()
    assert lines[0] == "index, utilization.gpu [%]\n"
    assert lines[1:] == ["0, 37\n", "1, 0\n"] * 3


def test_container_process_resolves_to_its_host_pid(smi: Smi, docker_engine: DockerEngine) -> None:
    name = "alice-train-fake-smi"
    docker_engine.run_container(name, "sleep", "300")
    pid = docker_engine.container_pid(name)
    spec = gpu_specs.spec(
        [gpu_specs.gpu("t", 0)], [{"gpu": 0, "container": name, "used_memory_mib": 4000}]
    )
    env = docker_engine.client_env()
    try:
        out = smi(
            "--query-compute-apps=pid,process_name,used_memory",
            "--format=csv,noheader",
            spec=spec,
            env=env,
        )
        assert out.stdout == f"{pid}, sleep, 4000 MiB\n"
        used = smi("--query-gpu=memory.used", "--format=csv,noheader,nounits", env=env)
        assert used.stdout == "4000\n"
        docker_engine.cli("kill", name)
        wait_for(lambda: docker_engine.container_pid(name) == 0, what="container stopped")
        gone = smi("--query-compute-apps=pid", "--format=csv,noheader", env=env)
        assert (gone.returncode, gone.stdout) == (0, "")
    finally:
        docker_engine.cli("rm", "--force", name, check=False)
