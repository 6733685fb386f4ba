"""The probe's MIG sample, run here under every awk with the fleet's stand-in nvidia-smi."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from clustertop.model import MIB
from clustertop.model.mig import MigRef
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame
from tests.fleet import gpu_specs
from tests.fleet.hostbin import install_nvidia_smi
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for


@pytest.mark.parametrize("awk", AWKS)
def test_mig_instances_and_a_process_instance_under_every_awk(awk: str, tmp_path: Path) -> None:
    busy = subprocess.Popen(["/bin/sh", "-c", "while :; do :; done"])
    install_nvidia_smi(tmp_path / "bin")
    mig = gpu_specs.gpu("m", 0, gpu_specs.H100_MIG, **{"utilization.gpu": "[N/A]"})
    spec = gpu_specs.spec(
        [{**mig, "mig": {}}, gpu_specs.gpu("m", 1, gpu_specs.H200)],  # type: ignore[dict-item]
        [{"gpu": 0, "pid": busy.pid, "used_memory_mib": 3000, "gi": 5, "ci": 0}],
    )
    (tmp_path / "gpu.json").write_text(json.dumps(spec))
    extra = {"CT_FAKE_GPU": str(tmp_path / "gpu.json")}
    running = LocalProbe(awk, tmpdir=tmp_path, path=str(tmp_path / "bin"), extra_env=extra)
    assembler = FrameAssembler("m", MARKER, HostInfo())
    try:
        snap = assembler.apply(parse_frame(running.tick(1), MARKER), 1.0)

        def instance_known() -> bool:
            nonlocal snap
            snap = assembler.apply(parse_frame(running.tick(0), MARKER), 1.0)
            return any(p.mig is not None for p in snap.gpu_processes)

        wait_for(instance_known, 20, what="the process's MIG instance")
    finally:
        running.close()
        busy.kill()
        busy.wait()
    split, whole = snap.gpus
    assert split.mig_error is None and whole.mig_instances == ()
    assert [(i.gpu_instance_id, i.memory_used) for i in split.mig_instances] == [
        (3, 12 * MIB),
        (4, 12 * MIB),
        (5, 3012 * MIB),
        (6, 12 * MIB),
    ]
    assert split.mig_instances[2].uuid == "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b"
    [proc] = snap.gpu_processes
    assert proc.pid == busy.pid
    assert proc.mig == MigRef(5, 0, "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b")
