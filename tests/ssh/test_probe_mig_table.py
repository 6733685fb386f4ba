"""The probe where `nvidia-smi -q -x` is refused: MIG devices from the plain table instead,
run here under every awk with the fleet's stand-in nvidia-smi (replaying the real H100 MIG
table capture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clustertop.model import MIB
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame
from tests.fleet import gpu_specs
from tests.fleet.hostbin import install_nvidia_smi
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

REFUSED = "Unable to determine the device handle: Insufficient Permissions"


def _probe(tmp_path: Path, awk: str, table: str) -> LocalProbe:
    install_nvidia_smi(tmp_path / "bin")
    mig = gpu_specs.gpu("m", 0, gpu_specs.H100_MIG, **{"utilization.gpu": "[N/A]"})
    spec = {
        **gpu_specs.spec([{**mig, "mig": {}}]),  # type: ignore[dict-item]
        "xml_refused": REFUSED,
        "text_template": table,
    }
    (tmp_path / "gpu.json").write_text(json.dumps(spec))
    extra = {"CT_FAKE_GPU": str(tmp_path / "gpu.json")}
    return LocalProbe(awk, tmpdir=tmp_path, path=str(tmp_path / "bin"), extra_env=extra)


@pytest.mark.parametrize("awk", AWKS)
def test_mig_devices_from_the_table_when_q_x_is_refused(awk: str, tmp_path: Path) -> None:
    running = _probe(tmp_path, awk, "h100-mig-load-processes-drv590.txt")
    assembler = FrameAssembler("m", MARKER, HostInfo())
    snap = None
    try:

        def instances() -> bool:
            nonlocal snap
            snap = assembler.apply(parse_frame(running.tick(0), MARKER), 1.0)
            return bool(snap.gpus and snap.gpus[0].mig_instances)

        wait_for(instances, 20, what="MIG devices from the table")
    finally:
        running.close()
    assert snap is not None
    [gpu] = snap.gpus
    assert gpu.mig_error is None
    rows = [(i.device_index, i.gpu_instance_id, i.compute_instance_id, i.memory_used,
             i.memory_total, i.util_percent) for i in gpu.mig_instances]  # fmt: skip
    assert rows == [
        (0, 2, 0, 11091 * MIB, 40448 * MIB, None),
        (1, 3, 0, 17 * MIB, 20096 * MIB, None),
        (2, 9, 0, 9 * MIB, 9984 * MIB, None),
        (3, 10, 0, 9 * MIB, 9984 * MIB, None),
    ]
    # MIG UUIDs and profiles from the stand-in's `-L` (the real H100 listing's lines).
    assert gpu.mig_instances[0].uuid == "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3"
    assert gpu.mig_instances[0].profile == "1g.10gb"


@pytest.mark.parametrize("awk", AWKS[:1])
def test_both_refused_is_the_gpus_mig_error(awk: str, tmp_path: Path) -> None:
    running = _probe(tmp_path, awk, "version-drv610-deprecated-fields.txt")
    assembler = FrameAssembler("m", MARKER, HostInfo())
    errors: list[str | None] = []
    try:

        def failed() -> bool:
            snap = assembler.apply(parse_frame(running.tick(0), MARKER), 1.0)
            errors.append(snap.gpus[0].mig_error if snap.gpus else None)
            return bool(errors[-1]) and errors[-1] != "MIG devices not read yet"

        wait_for(failed, 20, what="the MIG error")
    finally:
        running.close()
    assert errors[-1] == (
        f"{REFUSED}; nvidia-smi table: no GPU table in nvidia-smi's output: "
        "NVIDIA-SMI version  : 610.57.04"
    )
