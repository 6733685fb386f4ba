"""The probe's AMD parts, run here under every awk: sysfs and KFD every tick, amd-smi now and
then, rocm-smi without it, and what the client makes of them."""

from __future__ import annotations

import functools
import json
import subprocess
import time
from pathlib import Path

import pytest

from clustertop.model import MIB, HostSnapshot
from clustertop.sources.ssh.assemble import FrameAssembler
from clustertop.sources.ssh.probe import ProbeSettings, parse_frame
from tests.fleet import fake_amd
from tests.fleet.amd_host import GIB, MI210, SECOND, sleeper, write_amd_host
from tests.ssh import test_probe_local
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe

__all__ = ["sleeper"]  # the fixture, used here by name


def _snapshots(probe: LocalProbe, ticks: int) -> list[HostSnapshot]:
    assembler = FrameAssembler("amd1", MARKER)
    return [assembler.apply(parse_frame(probe.tick(1), MARKER), 1.0) for _ in range(ticks)]


@pytest.mark.parametrize("awk", AWKS)
def test_sysfs_kfd_and_amd_smi_every_value(
    awk: str, tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    spec = {
        "mode": "banner",
        "gpus": [MI210, SECOND],
        "processes": [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}],
    }
    env = write_amd_host(tmp_path, spec, ("amd-smi",))
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    try:
        first, second = _snapshots(probe, 2)
    finally:
        probe.close()
    for snap in (first, second):  # the second frame carries amd-smi's output as "same"
        assert snap.gpu_error is None
        assert [(g.index, g.uuid, g.vendor, g.name) for g in snap.gpus] == [
            (0, "0000:83:00.0", "amd", "AMD Instinct MI210"),
            (1, "0000:c3:00.0", "amd", "AMD Instinct MI210"),
        ]
        gpu = snap.gpus[0]
        assert (gpu.util_percent, gpu.memory_used, gpu.memory_total) == (
            97.0,
            20 * GIB,
            65520 * MIB,
        )
        assert (gpu.temperature_c, gpu.power_w, gpu.power_limit_w) == (61.0, 287.0, 300.0)
        (proc,) = snap.gpu_processes
        assert (proc.pid, proc.gpu_index, proc.gpu_uuid) == (sleeper.pid, 0, "0000:83:00.0")
        assert proc.memory_used == 3 * GIB
        assert proc.command and "time.sleep(300)" in proc.command
        assert proc.user is not None and proc.start_time is not None


@pytest.mark.parametrize("awk", AWKS[:1])
def test_values_follow_sysfs_every_tick(awk: str, tmp_path: Path) -> None:
    env = write_amd_host(tmp_path, {"gpus": [MI210], "processes": []}, ("amd-smi",))
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("amd1", MARKER)
    try:
        snap = assembler.apply(parse_frame(probe.tick(1), MARKER), 1.0)
        assert snap.gpus[0].util_percent == 97.0 and snap.gpu_processes == ()
        fake_amd.write_sysfs(tmp_path / "sys", {"gpus": [{**MI210, "util": 12}], "processes": []})
        snap = assembler.apply(parse_frame(probe.tick(0), MARKER), 1.0)
    finally:
        probe.close()
    assert (snap.gpus[0].util_percent, snap.gpus[0].name) == (12.0, "AMD Instinct MI210")


@pytest.mark.parametrize("awk", AWKS[:1])
def test_rocm_smi_without_amd_smi_and_amd_smi_process_without_kfd(
    awk: str, tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    procs = [{"gpu": 1, "pid": sleeper.pid, "name": "python", "vram": GIB}]
    env = write_amd_host(tmp_path, {"gpus": [MI210, SECOND], "processes": procs}, ("rocm-smi",))
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    try:
        (snap,) = _snapshots(probe, 1)
    finally:
        probe.close()
    assert [g.name for g in snap.gpus] == ["AMD Instinct MI210"] * 2
    assert [(p.pid, p.gpu_index) for p in snap.gpu_processes] == [(sleeper.pid, 1)]

    env = write_amd_host(
        tmp_path / "nokfd",
        {"gpus": [MI210, SECOND], "processes": procs, "kfd": False},
        ("amd-smi",),
    )
    probe = LocalProbe(awk, path=str(tmp_path / "nokfd" / "bin"), extra_env=env)
    try:
        (snap,) = _snapshots(probe, 1)
    finally:
        probe.close()
    (proc,) = snap.gpu_processes
    assert (proc.pid, proc.gpu_uuid, proc.memory_used) == (sleeper.pid, "0000:c3:00.0", GIB)


@pytest.mark.parametrize("awk", AWKS[:1])
def test_a_failing_amd_smi_is_the_gpu_sections_error_and_sysfs_still_shows(
    awk: str, tmp_path: Path
) -> None:
    env = write_amd_host(tmp_path, {"mode": "fail", "gpus": [MI210], "processes": []}, ("amd-smi",))
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    try:
        (snap,) = _snapshots(probe, 1)
    finally:
        probe.close()
    assert snap.gpu_error == (
        "AMD: amd-smi static: exit 1: WARNING: User is missing the following required groups: "
        "render, video. Please add user to these groups."
    )
    assert [(g.name, g.util_percent) for g in snap.gpus] == [("AMD GPU", 97.0)]


@pytest.mark.parametrize("awk", AWKS[:1])
def test_no_amd_gpu_no_amd_part(awk: str, tmp_path: Path) -> None:
    (tmp_path / "sys" / "class" / "drm").mkdir(parents=True)
    probe = LocalProbe(awk, extra_env={"CT_SYSFS_ROOT": str(tmp_path / "sys")})
    try:
        text = probe.tick(1)
    finally:
        probe.close()
    assert f"{MARKER} amd" not in text


@pytest.mark.parametrize("awk", AWKS[:1])
def test_amd_smi_process_alone_keeps_the_names_of_the_last_static_run(
    awk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without KFD, `amd-smi process` runs at its own cadence (here every tick) and static
    # (names) rarely: the names of the last static run stay.
    monkeypatch.setattr(
        test_probe_local, "ProbeSettings", functools.partial(ProbeSettings, amd_process_every=1)
    )
    first = [{"gpu": 0, "pid": 4001, "name": "a", "vram": GIB}]
    env = write_amd_host(
        tmp_path, {"gpus": [MI210], "processes": first, "kfd": False}, ("amd-smi",)
    )
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("amd1", MARKER)
    try:
        snap = assembler.apply(parse_frame(probe.tick(0), MARKER), 1.0)
        assert [(p.pid, p.memory_used) for p in snap.gpu_processes] == [(4001, GIB)]
        later = [{"gpu": 0, "pid": 4002, "name": "b", "vram": 2 * GIB}]
        (tmp_path / "amd.json").write_text(json.dumps({"gpus": [MI210], "processes": later}))
        for _ in range(100):
            snap = assembler.apply(parse_frame(probe.tick(0), MARKER), 1.0)
            if [p.pid for p in snap.gpu_processes] == [4002]:
                break
            time.sleep(0.05)
    finally:
        probe.close()
    assert [(p.pid, p.memory_used) for p in snap.gpu_processes] == [(4002, 2 * GIB)]
    assert snap.gpus[0].name == "AMD Instinct MI210" and snap.gpu_error is None
