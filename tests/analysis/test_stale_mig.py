"""The stale rule per MIG instance: judged by the instance's own utilisation, or not at all."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.alerts import AlertKind, AlertTracker
from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.stale import StaleTracker
from clustertop.analysis.stale_mig import NO_INSTANCE_UTIL, MigStaleTracker, mig_stale_json
from clustertop.model import MIB, HostSnapshot, HostState, Section
from clustertop.model.mig import MigRef
from tests.analysis.builders import T0, ctr, snap
from tests.analysis.test_mig import MIG_UUIDS, instance, mig_gpu, on


def _host(t: float, util9: float | None, used9_mib: int = 4000, **kwargs: object) -> HostSnapshot:
    """GI 9 holds `used9_mib` at `util9`; GI 10 is empty (12 MiB) and idle."""
    gpu = mig_gpu(0, instance(0, 9, used9_mib, util=util9), instance(1, 10, util=0.0))
    return dataclasses.replace(snap("h100", gpus=(gpu,)), time=T0 + t, **kwargs)  # type: ignore[arg-type]


def _stale(tracker: MigStaleTracker) -> dict[object, float]:
    return tracker.stale("h100")


def test_an_idle_instance_holding_memory_goes_stale_after_the_period() -> None:
    tracker = MigStaleTracker(stale_after=600.0, util_percent=5.0)
    for t in (0.0, 300.0, 599.0):
        tracker.update(_host(t, 1.0))
    assert _stale(tracker) == {}
    tracker.update(_host(600.0, 2.5))
    # Only the instance holding memory; the empty one (12 MiB) holds nothing.
    assert _stale(tracker) == {(0, 9, 0): T0}
    tracker.update(_host(660.0, 80.0))  # busy: the run ends
    assert _stale(tracker) == {}


def test_unknown_utilisation_cannot_judge_and_says_why() -> None:
    tracker = MigStaleTracker(stale_after=0.0)
    tracker.update(_host(0.0, None))
    assert _stale(tracker) == {}
    doc = mig_stale_json(tracker, [_host(0.0, None)])
    assert doc["stale"] == []
    [row] = doc["unjudged"]
    assert (row["gpu_instance_id"], row["uuid"], row["why"]) == (9, MIG_UUIDS[0], NO_INSTANCE_UTIL)
    assert row["memory_used"] == 4000 * MIB and row["util_percent"] is None
    assert "nvidia-smi and NVML report none per MIG instance" in NO_INSTANCE_UTIL


def test_unknown_readings_neither_end_nor_extend_a_run_and_gaps_and_downs_end_it() -> None:
    tracker = MigStaleTracker(stale_after=100.0, gap_s=300.0)
    tracker.update(_host(0.0, 0.0))
    tracker.update(_host(60.0, None))
    tracker.update(_host(120.0, 0.0, stale=frozenset({Section.GPU})))  # repeats old numbers
    assert _stale(tracker) == {}
    tracker.update(_host(150.0, 0.0))
    assert _stale(tracker) == {(0, 9, 0): T0}
    tracker.update(_host(1000.0, 0.0))  # a gap: what happened meanwhile is unknown
    assert _stale(tracker) == {}
    tracker.update(_host(1100.0, 0.0))
    assert _stale(tracker) == {(0, 9, 0): T0 + 1000.0}
    tracker.update(_host(1110.0, 0.0, state=HostState.UNREACHABLE))
    assert _stale(tracker) == {}


def test_a_process_on_the_instance_holds_it_even_below_the_memory_limit() -> None:
    tracker = MigStaleTracker(stale_after=0.0)
    host = dataclasses.replace(_host(0.0, 0.0, used9_mib=100), gpu_processes=(on(7, 0, 9),))
    tracker.update(host)
    assert _stale(tracker) == {(0, 9, 0): T0}
    tracker.update(_host(10.0, 0.0, used9_mib=100))  # no process, 100 MiB: holds nothing
    assert _stale(tracker) == {}


def test_a_gpu_error_is_unknown_not_idle() -> None:
    tracker = MigStaleTracker(stale_after=0.0)
    host = _host(0.0, 0.0)
    broken = dataclasses.replace(host.gpus[0], error="GPU is lost")
    tracker.update(dataclasses.replace(host, gpus=(broken,)))
    doc = mig_stale_json(tracker, [host])
    assert doc["stale"] == [] and [r["why"] for r in doc["unjudged"]] == ["GPU is lost"] * 2


def test_the_analysis_raises_an_alert_and_lists_the_instance_in_json() -> None:
    analysis = ClusterAnalysis(
        stale=StaleTracker(stale_after=0.0), alerts=AlertTracker(), free_gpu_memory_mib=500
    )
    host = _host(0.0, 0.0)
    analysis.update(host)
    [alert] = [a for a in analysis.alerts() if a.kind is AlertKind.STALE_MIG]
    assert alert.subject == MIG_UUIDS[0] and alert.since == T0
    assert alert.message == "MIG 1g.10gb GI 9/CI 0 on GPU 0 holds 3.9 GiB, idle for 0 min"
    [row] = analysis.document_extras([host])["mig_stale"]["stale"]
    assert (row["host"], row["gpu_index"], row["gpu_instance_id"], row["idle_since"]) == (
        "h100", 0, 9, T0)  # fmt: skip
    analysis.update(_host(5.0, 50.0))
    assert not [a for a in analysis.alerts() if a.kind is AlertKind.STALE_MIG]


def test_a_pod_holding_an_instance_is_judged_by_that_instance() -> None:
    """dcgm-exporter names the pod on an instance, with no process: the container's stale
    rule reads that instance's utilisation, not its GPU's (unknown under MIG)."""
    pod = dataclasses.replace(ctr("train-0", gpus=(0,), gpu_mem_mib=4000), mig=((0, MigRef(9, 0)),))
    tracker = StaleTracker(stale_after=0.0)
    assert tracker.update(dataclasses.replace(_host(0.0, 1.0), containers=(pod,))) == {pod.id}
    assert tracker.update(dataclasses.replace(_host(5.0, 90.0), containers=(pod,))) == set()
    assert tracker.update(dataclasses.replace(_host(9.0, None), containers=(pod,))) == set()
