"""The exported metric families: what a down host, unknown values and hostile text become."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from clustertop.analysis.metrics import build_metrics
from clustertop.cli.export import FamilyCollector
from clustertop.model import Gpu, GpuProcess, HostSnapshot, HostState, placeholder

HOSTILE = 'evil"} 1\nclustertop_host_up{host="forged'


def _gpu(index: int, util: float | None) -> Gpu:
    return Gpu(index, f"GPU-{index}", "NVIDIA H100", util, 10, 100, 50.0, None, None)


def _families(snaps: list[HostSnapshot]) -> dict[str, list[tuple[dict[str, str], float]]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FamilyCollector(build_metrics(snaps, {})))
    text = generate_latest(registry).decode()
    return {
        fam.name: [(dict(s.labels), s.value) for s in fam.samples]
        for fam in text_string_to_metric_families(text)
    }


def test_down_host_has_only_its_state_and_reason() -> None:
    down = placeholder("h9", HostState.UNREACHABLE, 1.0, "connection refused")
    fams = _families([down])
    assert fams["clustertop_host_up"] == [({"host": "h9"}, 0.0)]
    assert fams["clustertop_host_state"] == [
        ({"host": "h9", "state": "unreachable", "reason": "connection refused"}, 1.0)
    ]
    assert fams["clustertop_gpu_utilization_percent"] == []


def test_unknown_values_are_left_out_and_hostile_text_stays_a_label() -> None:
    snap = HostSnapshot(
        name="h1",
        state=HostState.UP,
        time=1.0,
        gpus=(_gpu(0, None), _gpu(1, 12.0)),
        gpu_processes=(GpuProcess(7, 1, "GPU-1", 5, user=HOSTILE, owner=HOSTILE),),
        docker_error=HOSTILE,
    )
    fams = _families([snap])
    assert fams["clustertop_gpu_utilization_percent"] == [
        ({"host": "h1", "gpu": "1", "uuid": "GPU-1", "name": "NVIDIA H100"}, 12.0)
    ]
    [(labels, value)] = fams["clustertop_gpu_process_memory_bytes"]
    assert labels["user"] == HOSTILE and labels["owner"] == HOSTILE and value == 5
    assert fams["clustertop_host_up"] == [({"host": "h1"}, 1.0)]
    [(labels, _)] = fams["clustertop_host_section_error"]
    assert labels == {"host": "h1", "section": "docker", "reason": HOSTILE}
