"""An AMD host whose sysfs shows no card (no /sys/class/drm, as in many containers): the probe
reads amd-smi metric (else rocm-smi) for the values, run here under every awk."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from clustertop.model import MIB, HostSnapshot
from clustertop.sources.ssh.assemble import FrameAssembler
from clustertop.sources.ssh.probe import parse_frame
from tests.fleet.amd_host import GIB, MI210, SECOND, sleeper, write_amd_host
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

__all__ = ["sleeper"]  # the fixture, used here by name
EVERY_2 = {"amd_metric_every": 2}


def _first(probe: LocalProbe, assembler: FrameAssembler) -> HostSnapshot:
    return assembler.apply(parse_frame(probe.tick(1), MARKER), 1.0)


@pytest.mark.parametrize("awk", AWKS)
def test_amd_smi_alone_gives_every_value_and_the_processes(
    awk: str, tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    procs = [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}]
    spec = {"mode": "banner", "gpus": [MI210, SECOND], "processes": procs}
    env = write_amd_host(tmp_path, spec, ("amd-smi",), sysfs=False)
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("amd1", MARKER)
    snaps: list[HostSnapshot] = []
    try:
        # The first frame waits for the tool only up to its deadline: wait for the values.
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or bool(snaps[-1].gpus),
            30, 0.1, "amd-smi's values in a frame",
        )  # fmt: skip
    finally:
        probe.close()
    snap = snaps[-1]
    assert snap.gpu_error is None
    assert [(g.index, g.uuid, g.vendor, g.name) for g in snap.gpus] == [
        (0, "0000:83:00.0", "amd", "AMD Instinct MI210"),
        (1, "0000:c3:00.0", "amd", "AMD Instinct MI210"),
    ]
    busy, idle = snap.gpus
    assert (busy.util_percent, busy.memory_used, busy.memory_total) == (97.0, 20 * GIB, 65520 * MIB)
    assert (busy.temperature_c, busy.power_w, busy.power_limit_w) == (61.0, 287.0, 300.0)
    assert (idle.util_percent, idle.memory_used) == (0.0, 10 * MIB)
    (proc,) = snap.gpu_processes
    assert (proc.pid, proc.gpu_uuid, proc.memory_used) == (sleeper.pid, "0000:83:00.0", 3 * GIB)
    # Without KFD the probe reads the details of the processes amd-smi names.
    assert proc.command and "time.sleep(300)" in proc.command and proc.user is not None


@pytest.mark.parametrize("awk", AWKS[:1])
def test_rocm_smi_alone_gives_the_values(awk: str, tmp_path: Path) -> None:
    env = write_amd_host(
        tmp_path, {"gpus": [MI210, SECOND], "processes": []}, ("rocm-smi",), sysfs=False
    )
    # The tool every 2 ticks (the default is 90): a change shows within the wait.
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env, options=EVERY_2)
    assembler = FrameAssembler("amd1", MARKER)
    snaps: list[HostSnapshot] = []
    try:
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or bool(snaps[-1].gpus),
            30, 0.1, "rocm-smi's values in a frame",
        )  # fmt: skip
        # Values follow the tool: the next metric run (every 2 ticks) shows a change.
        spec = {"gpus": [{**MI210, "util": 12}, SECOND], "processes": []}
        (tmp_path / "amd.json").write_text(json.dumps(spec))
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or snaps[-1].gpus[0].util_percent == 12,
            30, 0.1, "rocm-smi's new value",
        )  # fmt: skip
    finally:
        probe.close()
    snap = snaps[-1]
    assert [(g.name, g.vendor) for g in snap.gpus] == [("AMD Instinct MI210", "amd")] * 2
    assert snap.gpus[0].memory_used == 20 * GIB and snap.gpu_error is None


@pytest.mark.parametrize("awk", AWKS[:1])
def test_a_failing_tool_alone_is_the_gpu_sections_error(awk: str, tmp_path: Path) -> None:
    env = write_amd_host(
        tmp_path, {"mode": "fail", "gpus": [MI210], "processes": []}, ("amd-smi",), sysfs=False
    )
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("amd1", MARKER)
    snaps: list[HostSnapshot] = []
    try:
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or snaps[-1].gpu_error is not None,
            30, 0.1, "amd-smi's failure in a frame",
        )  # fmt: skip
    finally:
        probe.close()
    assert snaps[-1].gpus == ()
    assert (snaps[-1].gpu_error or "").startswith("AMD: amd-smi")


@pytest.mark.parametrize("awk", AWKS[:1])
def test_the_tools_values_say_how_old_they_are(awk: str, tmp_path: Path) -> None:
    # At the default cadence (amd-smi metric every 90 ticks) a value changed after the first
    # run is not seen for many ticks: the GPUs keep the run's values, and say their age.
    env = write_amd_host(
        tmp_path, {"gpus": [MI210, SECOND], "processes": []}, ("amd-smi",), sysfs=False
    )
    probe = LocalProbe(awk, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("amd1", MARKER)
    snaps: list[HostSnapshot] = []
    try:
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or bool(snaps[-1].gpus),
            30, 0.1, "amd-smi's values in a frame",
        )  # fmt: skip
        first = snaps[-1]
        spec = {"gpus": [{**MI210, "util": 12}, SECOND], "processes": []}
        (tmp_path / "amd.json").write_text(json.dumps(spec))
        wait_for(
            lambda: snaps.append(_first(probe, assembler)) or _age(snaps[-1]) >= 0.5,
            30, 0.1, "the values half a second old",
        )  # fmt: skip
    finally:
        probe.close()
    assert all(g.reading_age_s is not None and g.reading_age_s >= 0 for g in first.gpus)
    ages = [_age(s) for s in snaps[snaps.index(first) :]]
    assert ages == sorted(ages)  # one run's values, older each frame
    last = snaps[-1]
    assert [g.util_percent for g in last.gpus] == [97.0, 0.0] and last.gpu_error is None
    assert last.gpus[0].reading_age_s == last.gpus[1].reading_age_s


def _age(snap: HostSnapshot) -> float:
    return snap.gpus[0].reading_age_s or 0.0 if snap.gpus else 0.0
