"""Local AMD GPUs: sysfs every tick, the amd-smi/rocm-smi stand-ins now and then, the amdsmi
library (a fake module) when importable, and both vendors on one host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from clustertop.model import MIB, Gpu
from clustertop.sources.local import amd as local_amd
from clustertop.sources.local import amd_lib
from clustertop.sources.local.amd import AmdReader, both_vendors
from clustertop.sources.local.gpu import GpuReading
from tests.fleet import fake_amd
from tests.fleet.amd_host import GIB, MI210, SECOND, write_amd_host


def _spec(**extra: Any) -> dict[str, Any]:
    return {"mode": "ok", "gpus": [MI210, SECOND], "processes": [], **extra}


@pytest.fixture
def amd_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sysfs tree and stand-in tools (not on PATH until a test says which)."""
    env = write_amd_host(tmp_path, _spec(), ("amd-smi", "rocm-smi"))
    monkeypatch.setenv(fake_amd.SPEC_ENV, env[fake_amd.SPEC_ENV])
    monkeypatch.setattr(amd_lib, "amdsmi_module", lambda: None)
    return tmp_path


def _which(bin_dir: Path, *tools: str) -> Any:
    return lambda name: str(bin_dir / name) if name in tools else None


def _set_spec(root: Path, spec: dict[str, Any], *, sysfs: bool = True) -> None:
    (root / "amd.json").write_text(json.dumps(spec))
    if sysfs:
        fake_amd.write_sysfs(root / "sys", spec)


def test_sysfs_alone_gives_every_value_in_bus_order(amd_host: Path) -> None:
    reading = AmdReader(amd_host / "sys", which=lambda _: None).read()
    assert reading.error is None and reading.processes == ()
    first, second = reading.gpus
    # card10 is on bus 83, card2 on c3: numbered by bus, as HIP counts them.
    assert (first.index, first.uuid, first.vendor) == (0, "0000:83:00.0", "amd")
    assert (second.index, second.uuid) == (1, "0000:c3:00.0")
    assert (first.util_percent, first.memory_used, first.memory_total) == (
        97.0,
        20 * GIB,
        65520 * MIB,
    )
    assert (first.temperature_c, first.power_w, first.power_limit_w) == (61.0, 287.0, 300.0)
    assert first.name == "AMD GPU"  # sysfs has no product name on this board


@pytest.mark.parametrize("kfd", [True, False], ids=["kfd-sysfs", "amd-smi-process"])
def test_amd_smi_adds_names_and_processes_with_vram(amd_host: Path, kfd: bool) -> None:
    # Processes come from the KFD driver's sysfs where it has them, else from amd-smi process.
    me = os.getpid()
    spec = _spec(processes=[{"gpu": 1, "pid": me, "name": "python3", "vram": 3 * GIB}])
    _set_spec(amd_host, {**spec, "mode": "banner", "kfd": kfd})
    reading = AmdReader(amd_host / "sys", which=_which(amd_host / "bin", "amd-smi")).read()
    assert reading.error is None
    assert [g.name for g in reading.gpus] == ["AMD Instinct MI210"] * 2
    (proc,) = reading.processes
    assert (proc.pid, proc.gpu_index, proc.gpu_uuid, proc.memory_used) == (
        me,
        1,
        "0000:c3:00.0",
        3 * GIB,
    )
    assert proc.command and sys.executable.rsplit("/", 1)[-1][:6] in proc.command
    assert proc.start_time is not None


def test_amd_smi_runs_at_the_slow_cadence_only(amd_host: Path) -> None:
    now = [0.0]
    reader = AmdReader(
        amd_host / "sys", which=_which(amd_host / "bin", "amd-smi"), clock=lambda: now[0]
    )
    assert reader.read().gpus[0].name == "AMD Instinct MI210"
    _set_spec(amd_host, {**_spec(), "gpus": [{**MI210, "name": "renamed"}, SECOND]}, sysfs=False)
    fake_amd.write_sysfs(amd_host / "sys", {"gpus": [{**MI210, "util": 3}, SECOND]})
    again = reader.read().gpus[0]
    assert (again.name, again.util_percent) == ("AMD Instinct MI210", 3.0)  # sysfs is live
    now[0] = local_amd.SLOW_S
    assert reader.read().gpus[0].name == "renamed"


def test_a_failing_amd_smi_is_a_clear_error_and_sysfs_still_shows(amd_host: Path) -> None:
    _set_spec(amd_host, {**_spec(), "mode": "fail"})
    reading = AmdReader(amd_host / "sys", which=_which(amd_host / "bin", "amd-smi")).read()
    assert reading.error == (
        "amd-smi static: exit 1: WARNING: User is missing the following required groups: "
        "render, video. Please add user to these groups."
    )
    assert [g.util_percent for g in reading.gpus] == [97.0, 0.0]


def test_rocm_smi_when_there_is_no_amd_smi(amd_host: Path) -> None:
    reading = AmdReader(amd_host / "sys", which=_which(amd_host / "bin", "rocm-smi")).read()
    assert reading.error is None
    assert [(g.index, g.name, g.bus_id) for g in reading.gpus] == [
        (0, "AMD Instinct MI210", "0000:83:00.0"),
        (1, "AMD Instinct MI210", "0000:c3:00.0"),
    ]


def test_without_sysfs_amd_smi_metric_gives_the_values(amd_host: Path) -> None:
    reader = AmdReader(amd_host / "nothing", which=_which(amd_host / "bin", "amd-smi"))
    first, second = reader.read().gpus
    assert (first.bus_id, first.util_percent, first.memory_used) == ("0000:83:00.0", 97.0, 20 * GIB)
    assert (second.util_percent, second.power_w, second.temperature_c) == (0.0, 287.0, 61.0)


def test_a_host_without_amd_gpus_reads_nothing_and_runs_nothing(tmp_path: Path) -> None:
    (tmp_path / "class" / "drm").mkdir(parents=True)
    called: list[str] = []
    reader = AmdReader(tmp_path, which=lambda name: called.append(name) or None)
    assert reader.read() == GpuReading()
    assert called == []


class _FakeAmdsmi:
    """The calls of ROCm's amdsmi module that clustertop makes, over two GPUs."""

    class AmdSmiException(Exception):
        pass

    AmdSmiTemperatureType = SimpleNamespace(EDGE="edge", HOTSPOT="hotspot")
    AmdSmiTemperatureMetric = SimpleNamespace(CURRENT="current")

    def __init__(self) -> None:
        self.shut = False

    def amdsmi_init(self) -> None:
        pass

    def amdsmi_shut_down(self) -> None:
        self.shut = True

    def amdsmi_get_processor_handles(self) -> list[str]:
        return ["h1", "h0"]

    def amdsmi_get_gpu_device_bdf(self, h: str) -> str:
        return {"h0": "0000:03:00.0", "h1": "0000:43:00.0"}[h]

    def amdsmi_get_gpu_activity(self, h: str) -> dict[str, Any]:
        return {"gfx_activity": 100 if h == "h0" else "N/A", "umc_activity": 4}

    def amdsmi_get_gpu_vram_usage(self, h: str) -> dict[str, Any]:
        return {"vram_total": 32624, "vram_used": 29777}

    def amdsmi_get_power_info(self, h: str) -> dict[str, Any]:
        return {"current_socket_power": "N/A", "average_socket_power": 103}

    def amdsmi_get_power_cap_info(self, h: str) -> dict[str, Any]:
        return {"power_cap": 300_000_000}

    def amdsmi_get_gpu_asic_info(self, h: str) -> dict[str, Any]:
        return {"market_name": "AMD Radeon AI PRO R9700"}

    def amdsmi_get_temp_metric(self, h: str, kind: str, metric: str) -> int:
        if kind == "edge":
            raise self.AmdSmiException("AMDSMI_STATUS_NOT_SUPPORTED")
        return 79

    def amdsmi_get_gpu_process_list(self, h: str) -> list[dict[str, Any]]:
        if h == "h1":
            return []
        usage = {"gtt_mem": 8268000, "cpu_mem": 0, "vram_mem": 21008920000}
        return [{"name": "python3.12", "pid": os.getpid(), "memory_usage": usage}]


def test_the_amdsmi_library_when_importable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = _FakeAmdsmi()
    monkeypatch.setattr(amd_lib, "amdsmi_module", lambda: fake)
    reader = AmdReader(tmp_path, which=lambda _: pytest.fail("no tools with the library"))
    reading = reader.read()
    first, second = reading.gpus
    assert (first.index, first.bus_id, first.name) == (0, "0000:03:00.0", "AMD Radeon AI PRO R9700")
    assert (first.util_percent, first.memory_used, first.memory_total) == (
        100.0,
        29777 * MIB,
        32624 * MIB,
    )
    assert (first.temperature_c, first.power_w, first.power_limit_w) == (79.0, 103.0, 300.0)
    assert (second.bus_id, second.util_percent) == ("0000:43:00.0", None)
    (proc,) = reading.processes
    assert (proc.gpu_index, proc.gpu_uuid, proc.memory_used) == (0, "0000:03:00.0", 21008920000)
    reader.close()
    assert fake.shut


def test_an_amdsmi_that_fails_to_start_falls_back_to_the_tools(
    monkeypatch: pytest.MonkeyPatch, amd_host: Path
) -> None:
    fake = _FakeAmdsmi()

    def refuse() -> None:
        raise fake.AmdSmiException("AMDSMI_STATUS_DRIVER_NOT_LOADED")

    monkeypatch.setattr(fake, "amdsmi_init", refuse)
    monkeypatch.setattr(amd_lib, "amdsmi_module", lambda: fake)
    reading = AmdReader(amd_host / "sys", which=lambda _: None).read()
    assert [g.util_percent for g in reading.gpus] == [97.0, 0.0]


def _gpu(vendor: str) -> Gpu:
    return Gpu(0, f"{vendor}-0", vendor, 0.0, 0, 1, None, None, None, vendor=vendor)


def test_both_vendors_on_one_host() -> None:
    nvidia = GpuReading((_gpu("nvidia"),))
    amd = GpuReading((_gpu("amd"),))
    assert [g.vendor for g in both_vendors(nvidia, amd).gpus] == ["nvidia", "amd"]
    missing = GpuReading(error="NVIDIA driver not loaded (libnvidia-ml.so not found)")
    assert both_vendors(missing, amd) == amd  # an AMD host simply has no NVIDIA driver
    assert both_vendors(missing, GpuReading()).error == missing.error
    broken = GpuReading(error="amd-smi process: no JSON in its output")
    assert both_vendors(nvidia, broken).error == "AMD: amd-smi process: no JSON in its output"


def test_once_json_on_an_amd_machine(amd_host: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        spec = _spec(processes=[{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": GIB}])
        _set_spec(amd_host, spec)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
        env.update(
            PATH=f"{amd_host / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}",
            CT_SYSFS_ROOT=str(amd_host / "sys"),
            DOCKER_HOST=f"unix://{amd_host / 'no.sock'}",
            XDG_CONFIG_HOME=str(amd_host),
        )
        done = subprocess.run(
            [sys.executable, "-m", "clustertop", "--once", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    [host] = doc["hosts"]
    assert host["gpu_error"] is None  # no NVIDIA driver here, and none expected
    gpus = [
        {k: g[k] for k in ("index", "uuid", "vendor", "name", "util_percent", "memory_used")}
        for g in host["gpus"]
    ]
    assert gpus == [
        {
            "index": 0,
            "uuid": "0000:83:00.0",
            "vendor": "amd",
            "name": "AMD Instinct MI210",
            "util_percent": 97.0,
            "memory_used": 20 * GIB,
        },
        {
            "index": 1,
            "uuid": "0000:c3:00.0",
            "vendor": "amd",
            "name": "AMD Instinct MI210",
            "util_percent": 0.0,
            "memory_used": 10 * MIB,
        },
    ]
    [proc] = host["gpu_processes"]
    assert (proc["pid"], proc["gpu_index"], proc["gpu_uuid"]) == (sleeper.pid, 0, "0000:83:00.0")
    assert proc["memory_used"] == GIB and "time.sleep(60)" in proc["command"]
    [free] = doc["free_gpus"]
    assert (free["vendor"], free["ready_line"]) == ("amd", "ssh localhost HIP_VISIBLE_DEVICES=1")


def test_without_sysfs_rocm_smi_values_say_how_old_they_are(amd_host: Path) -> None:
    # rocm-smi has no metric command: its values are those of the slow run, every SLOW_S.
    now = [100.0]
    reader = AmdReader(
        amd_host / "nothing", which=_which(amd_host / "bin", "rocm-smi"), clock=lambda: now[0]
    )
    assert [g.reading_age_s for g in reader.read().gpus] == [0.0, 0.0]
    _set_spec(amd_host, {**_spec(), "gpus": [{**MI210, "util": 3}, SECOND]}, sysfs=False)
    now[0] += 4.25
    kept = reader.read().gpus
    assert [(g.util_percent, g.reading_age_s) for g in kept] == [(97.0, 4.2), (0.0, 4.2)]
    now[0] += local_amd.SLOW_S
    fresh = reader.read().gpus
    assert [(g.util_percent, g.reading_age_s) for g in fresh] == [(3.0, 0.0), (0.0, 0.0)]
    # amd-smi metric runs every tick locally: read now, no age.
    reader = AmdReader(amd_host / "nothing", which=_which(amd_host / "bin", "amd-smi"))
    assert [g.reading_age_s for g in reader.read().gpus] == [None, None]
