"""The stale rule per MIG instance over SSH, end to end: nvidia-smi gives no utilisation per
instance, so the rule says it cannot judge (never a wrong "idle"), in JSON and in no alert."""

from __future__ import annotations

from clustertop.analysis.stale_mig import NO_INSTANCE_UTIL
from clustertop.model import MIB
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H100_MIG, gpu, spec
from tests.ssh.helpers import run_once
from tests.ssh.test_mig_once import MIG_UUIDS


def test_an_instance_holding_memory_is_unjudged_with_why(clean_fleet: Fleet) -> None:
    h1 = clean_fleet["h1"]
    engine = h1.docker
    assert engine is not None
    engine.run_container("bob-idle", "sleep", "600")
    mig_gpu = gpu("h1", 0, H100_MIG, **{"utilization.gpu": "[N/A]"})
    h1.set_gpu_spec(
        spec(
            [{**mig_gpu, "mig": {"profile": "1g.20gb"}}],  # type: ignore[dict-item]
            [{"gpu": 0, "container": "bob-idle", "used_memory_mib": 3000, "gi": 4, "ci": 0}],
        )
    )
    result = run_once(clean_fleet, "h1", args=("--stale-after", "0"))
    assert result.returncode == 0, result.stderr
    doc = result.doc["mig_stale"]
    assert doc["stale"] == []
    # GI 4 holds the process's memory: the rule cannot judge it, and says why. The empty
    # instances (12 MiB) hold nothing, so there is nothing to judge.
    assert doc["unjudged"] == [
        {
            "host": "h1",
            "gpu_index": 0,
            "gpu_uuid": mig_gpu["uuid"],
            "gpu_instance_id": 4,
            "compute_instance_id": 0,
            "profile": "1g.20gb",
            "uuid": MIG_UUIDS[1],
            "memory_used": 3012 * MIB,
            "util_percent": None,
            "why": NO_INSTANCE_UTIL,
        }
    ]
    assert not [a for a in result.doc["alerts"] if a["kind"] == "stale-mig-instance"]
    [ctr] = [c for c in result.host("h1")["containers"] if c["name"] == "bob-idle"]
    assert ctr["stale"] is False
