"""A host with an NVIDIA GPU in MIG mode and AMD GPUs: one probe sends the MIG part and the
AMD parts in its gpu section, and the frame reads into both."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from clustertop.model import HostSnapshot
from clustertop.model.mig import MigRef
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame
from tests.fleet import gpu_specs
from tests.fleet.amd_host import GIB, MI210, sleeper, write_amd_host
from tests.fleet.hostbin import install_nvidia_smi
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

__all__ = ["sleeper"]  # the fixture, used here by name


@pytest.mark.parametrize("awk", AWKS[:1])
def test_mig_part_and_amd_parts_in_one_frame(
    awk: str, tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    busy = subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"])
    install_nvidia_smi(tmp_path / "bin")
    mig = gpu_specs.gpu("m", 0, gpu_specs.H100_MIG, **{"utilization.gpu": "[N/A]"})
    spec = gpu_specs.spec(
        [{**mig, "mig": {}}],  # type: ignore[dict-item]
        [{"gpu": 0, "pid": busy.pid, "used_memory_mib": 3000, "gi": 5, "ci": 0}],
    )
    (tmp_path / "gpu.json").write_text(json.dumps(spec))
    amd = {
        "mode": "banner",
        "gpus": [MI210],
        "processes": [{"gpu": 0, "pid": sleeper.pid, "name": "python", "vram": 3 * GIB}],
    }
    env = {**write_amd_host(tmp_path, amd, ("amd-smi",)), "CT_FAKE_GPU": str(tmp_path / "gpu.json")}
    probe = LocalProbe(awk, tmpdir=tmp_path, path=str(tmp_path / "bin"), extra_env=env)
    assembler = FrameAssembler("m", MARKER, HostInfo())
    snap: HostSnapshot | None = None
    try:

        def both_read() -> bool:
            nonlocal snap
            snap = assembler.apply(parse_frame(probe.tick(1), MARKER), 1.0)
            vendors = {g.vendor for g in snap.gpus}
            return vendors == {"nvidia", "amd"} and any(p.mig for p in snap.gpu_processes)

        wait_for(both_read, 20, what="the MIG instance and the AMD GPU")
    finally:
        probe.close()
        busy.kill()
        busy.wait()
    assert snap is not None and snap.gpu_error is None
    split, mi210 = snap.gpus
    assert (split.vendor, split.index, len(split.mig_instances)) == ("nvidia", 0, 4)
    assert (mi210.vendor, mi210.index, mi210.uuid) == ("amd", 0, "0000:83:00.0")
    by_pid = {p.pid: p for p in snap.gpu_processes}
    assert by_pid[busy.pid].mig == MigRef(5, 0, "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b")
    assert by_pid[sleeper.pid].gpu_uuid == "0000:83:00.0" and by_pid[sleeper.pid].mig is None
