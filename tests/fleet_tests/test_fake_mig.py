"""The nvidia-smi stand-in's MIG output (`-L`, `-q -x`), read back by clustertop's own parsers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from clustertop.model import MIB
from clustertop.parsers.nvidia_mig import join_mig, parse_gpu_list
from clustertop.parsers.nvidia_smi import GPU_QUERY_FIELDS, parse_gpu_query
from clustertop.parsers.nvidia_xml import parse_nvidia_smi_xml
from tests.fleet import gpu_specs
from tests.fleet.hostbin import install_nvidia_smi

MIG_SPEC = gpu_specs.spec(
    [
        gpu_specs.gpu("m", 0, gpu_specs.H100_MIG, mig={"profile": "1g.20gb"}),  # type: ignore[arg-type]
        gpu_specs.gpu("m", 1, gpu_specs.H200),
    ],
    processes=[
        {"gpu": 0, "pid": 4242, "used_memory_mib": 3000, "process_name": "serve", "gi": 4, "ci": 0},
        {"gpu": 1, "pid": 4243, "used_memory_mib": 100, "process_name": "train"},
    ],
)


def _smi(tmp_path: Path, *args: str) -> str:
    program = install_nvidia_smi(tmp_path / "bin")
    spec = tmp_path / "gpu.json"
    spec.write_text(json.dumps(MIG_SPEC))
    done = subprocess.run(
        [str(program), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CT_FAKE_GPU": str(spec)},
        timeout=30,
        check=True,
    )
    return done.stdout


def test_list_and_xml_replay_the_real_mig_captures(tmp_path: Path) -> None:
    listing, other = parse_gpu_list(_smi(tmp_path, "-L"))
    assert other == []
    assert [g.uuid for g in listing] == [gpu_specs.gpu_uuid("m", 0), gpu_specs.gpu_uuid("m", 1)]
    assert [i.uuid for i in listing[0].instances] == [
        "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3",
        "MIG-7d8b2e8d-57ea-5fe3-83bc-2026e5cb10fb",
        "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b",
        "MIG-ee5bffff-7058-50a9-9e23-132b98e61920",
    ]
    assert {i.profile for i in listing[0].instances} == {"1g.20gb"}
    assert listing[1].instances == ()

    gpus, apps = parse_nvidia_smi_xml(_smi(tmp_path, "-q", "-x"))
    assert [g.uuid for g in gpus] == [g.uuid for g in listing]
    mig = gpus[0].mig_instances
    assert [(i.gpu_instance_id, i.memory_used) for i in mig] == [
        (3, 12 * MIB),
        (4, 3012 * MIB),  # the capture's 12 MiB plus the process in GI 4
        (5, 12 * MIB),
        (6, 12 * MIB),
    ]
    assert gpus[1].mig_instances == ()
    assert [(a.pid, a.gpu_instance_id, a.compute_instance_id) for a in apps] == [
        (4242, 4, 0),
        (4243, None, None),
    ]
    csv_gpus, errors = parse_gpu_query(
        _smi(tmp_path, "--query-gpu=" + ",".join(GPU_QUERY_FIELDS), "--format=csv,noheader,nounits")
    )
    assert errors == [] and csv_gpus[0].mig_mode == "Enabled"
    joined = join_mig([*csv_gpus[:1]], listing)
    assert joined[0].mig_instances[0].uuid == "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3"


def test_x_without_q_is_rejected_like_nvidia_smi(tmp_path: Path) -> None:
    program = install_nvidia_smi(tmp_path / "bin")
    done = subprocess.run(
        [str(program), "-x"], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2 and "Invalid combination of input arguments" in done.stdout
