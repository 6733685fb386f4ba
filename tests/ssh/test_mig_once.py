"""MIG over SSH, end to end: a fleet host whose stand-in nvidia-smi replays the real MIG captures,
read by `clustertop --once --json` (exact values), free instances with their MIG line."""

from __future__ import annotations

from clustertop.model import MIB
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H100_MIG, H200, gpu, spec
from tests.ssh.helpers import run_once

# The real 8x H100 `nvidia-smi -L` capture's MIG UUIDs of GPU 0, devices 0-3 (see fake_mig).
MIG_UUIDS = (
    "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3",
    "MIG-7d8b2e8d-57ea-5fe3-83bc-2026e5cb10fb",
    "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b",
    "MIG-ee5bffff-7058-50a9-9e23-132b98e61920",
)


def test_mig_instances_processes_and_free_instances(clean_fleet: Fleet) -> None:
    h1 = clean_fleet["h1"]
    engine = h1.docker
    assert engine is not None
    serve = engine.run_container("bob-serve", "sleep", "600")
    # Utilisation reads [N/A] in MIG mode, as in the real capture (gpu() would set 0).
    mig_gpu = gpu("h1", 0, H100_MIG, **{"utilization.gpu": "[N/A]"})
    h1.set_gpu_spec(
        spec(
            [{**mig_gpu, "mig": {"profile": "1g.20gb"}}, gpu("h1", 1, H200)],  # type: ignore[dict-item]
            [{"gpu": 0, "container": "bob-serve", "used_memory_mib": 3000, "gi": 4, "ci": 0}],
        )
    )
    result = run_once(clean_fleet, "h1")
    assert result.returncode == 0, result.stderr
    assert result.doc["schema"] == 2
    host = result.host("h1")
    whole_mig, h200 = host["gpus"]
    assert whole_mig["uuid"] == mig_gpu["uuid"] and whole_mig["mig_mode"] == "Enabled"
    assert whole_mig["util_percent"] is None  # [N/A] in MIG mode, as the real capture says
    assert whole_mig["mig_error"] is None
    assert whole_mig["mig_instances"] == [
        {
            "device_index": dev,
            "gpu_instance_id": gi,
            "compute_instance_id": 0,
            "profile": "1g.20gb",
            "uuid": MIG_UUIDS[dev],
            "memory_used": (3012 if gi == 4 else 12) * MIB,
            "memory_total": 19968 * MIB,
            "multiprocessor_count": 14,
            "placement": None,
            "util_percent": None,
            "error": None,
        }
        for dev, gi in enumerate((3, 4, 5, 6))
    ]
    assert h200["mig_instances"] == [] and h200["mig_error"] is None

    [proc] = host["gpu_processes"]
    assert proc["pid"] == engine.container_pid("bob-serve")
    assert proc["container"] == {"id": serve, "name": "bob-serve"}
    assert proc["owner"] == "bob"
    assert proc["mig"] == {"gpu_instance_id": 4, "compute_instance_id": 0, "uuid": MIG_UUIDS[1]}

    summary = result.doc["summary"]
    assert (summary["gpus"], summary["mig_instances"], summary["gpus_busy"]) == (5, 4, 1)
    assert summary["gpus_free"] == 4  # three instances and the idle H200
    [free] = result.doc["free_gpus"]
    assert free["mig_count"] == 3 and free["indices"] == [1]
    lines = [g["ready_line"] for g in free["gpus"] if g["mig"] is not None]
    assert lines == [f"ssh h1 CUDA_VISIBLE_DEVICES={MIG_UUIDS[dev]}" for dev in (0, 2, 3)]
    assert free["ready_line"] == "ssh h1 CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1"
    users = {row["owner"]: row for row in result.doc["users"]}
    assert users["bob"]["gpus"] == 1 and users["bob"]["processes"] == 1
