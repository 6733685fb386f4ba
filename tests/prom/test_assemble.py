"""PromQL answers to snapshots, without a server: joins, states and partial answers."""

from __future__ import annotations

import json

import pytest

from clustertop.model import MIB, HostState
from clustertop.sources.prometheus.assemble import QUERIES, assemble, host_key, strip_port
from clustertop.sources.prometheus.client import PromError, Series, TargetHealth, parse_vector
from tests.parsers._fixtures import read_fixture

GPU = {"gpu": "0", "UUID": "GPU-a", "modelName": "NVIDIA A100", "instance": "10.0.0.9:9400"}


def _answers(**given: list[Series] | PromError) -> dict[str, list[Series] | PromError]:
    answers: dict[str, list[Series] | PromError] = {name: [] for name in QUERIES}
    answers.update(given)
    return answers


@pytest.mark.parametrize(
    ("instance", "host"),
    [("gpu01:9100", "gpu01"), ("[::1]:9100", "::1"), ("gpu01", "gpu01"), ("::1", "::1")],
)
def test_strip_port(instance: str, host: str) -> None:
    assert strip_port(instance) == host


def test_dcgm_hostname_wins_unless_another_label_is_chosen() -> None:
    labels = {**GPU, "Hostname": "gpu07", "node": "n7:1"}
    assert host_key(labels) == "gpu07"
    assert host_key(labels, "node") == "n7"
    assert host_key({"instance": "gpu01:9100"}) == "gpu01"


def test_docs_example_answer_and_up_zero() -> None:
    series = parse_vector(
        json.loads(read_fixture("prometheus/prometheus-api-v1-query-vector-docs-example.json"))
    )
    assert series == [
        ({"__name__": "up", "job": "prometheus", "instance": "localhost:9090"}, 1.0),
        ({"__name__": "up", "job": "node", "instance": "localhost:9100"}, 0.0),
    ]
    [snap] = assemble(_answers(up=series), None, now=5.0)
    assert (snap.name, snap.state) == ("localhost", HostState.UNREACHABLE)
    assert snap.error == "target node localhost:9100 down (up == 0)"


def test_error_answers_are_refused() -> None:
    with pytest.raises(PromError, match="bad_data: parse error"):
        parse_vector({"status": "error", "errorType": "bad_data", "error": "parse error"})
    with pytest.raises(PromError, match="not an instant vector"):
        parse_vector({"status": "success", "data": {"resultType": "matrix", "result": []}})
    assert parse_vector({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [1, "NaN"]}, {"metric": {}, "value": [1, "+Inf"]}]}}) == []  # fmt: skip


def test_malformed_answers_never_crash() -> None:
    doc = {"status": "success", "data": {"resultType": "vector", "result": [
        "junk", None, {"metric": "x", "value": [1, "2"]}, {"metric": {"a": 1}, "value": [1]},
        {"metric": {"instance": "h:1"}, "value": [1, "3"]}]}}  # fmt: skip
    assert parse_vector(doc) == [({"instance": "h:1"}, 3.0)]
    for bad in (None, [], "x", {"status": "success"}, {"status": "success", "data": {"result": 1}}):
        with pytest.raises(PromError):
            parse_vector(bad)


def test_gpu_fields_xid_and_mig() -> None:
    mig = {**GPU, "GPU_I_PROFILE": "3g.20gb", "GPU_I_ID": "1"}
    answers = _answers(
        gpu_util=[(GPU, 50.0)],
        gpu_fb_used=[(GPU, 1000.0), (mig, 200.0)],
        gpu_fb_free=[(GPU, 3000.0), (mig, 19800.0)],
        gpu_xid=[(GPU, 79.0)],
        gpu_gr_active=[(mig, 0.25)],
    )
    [snap] = assemble(answers, [], now=1.0)
    assert snap.name == "10.0.0.9" and snap.state is HostState.UP
    [whole] = snap.gpus  # the instance's series fold under the GPU's own
    assert (whole.util_percent, whole.memory_used, whole.memory_total) == (
        50.0,
        1000 * MIB,
        4000 * MIB,
    )
    assert whole.error == "XID error 79 (dcgm-exporter)"
    assert (whole.name, whole.vendor, whole.mig_mode) == ("NVIDIA A100", "nvidia", "Enabled")
    [instance] = whole.mig_instances
    assert (instance.gpu_instance_id, instance.compute_instance_id, instance.profile) == (
        1, None, "3g.20gb")  # fmt: skip
    assert (instance.memory_used, instance.memory_total, instance.util_percent) == (
        200 * MIB, 20000 * MIB, 25.0)  # fmt: skip
    assert snap.system_error == "no node_exporter series for this host"


def test_mig_only_series_make_the_gpu_and_bad_labels_or_ratios_are_unknown() -> None:
    """dcgm-exporter watching only the GPU instances: the GPU is built from them."""
    one = {**GPU, "GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "9"}
    two = {**GPU, "GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "10"}
    odd = {**GPU, "gpu": "1", "GPU_I_PROFILE": "1g.10gb", "GPU_I_ID": "x"}
    answers = _answers(
        gpu_fb_used=[(one, 10.0), (two, 5000.0), (odd, 7.0)],
        gpu_fb_free=[(one, 9974.0), (two, 4984.0)],
        gpu_temp=[(one, 40.0), (two, 41.0)],
        gpu_gr_active=[(one, 1.7), (two, 0.0)],
    )
    [snap] = assemble(answers, [], now=1.0)
    mig, other = snap.gpus
    assert (mig.index, mig.util_percent, mig.temperature_c) == (0, None, 41.0)
    assert (mig.memory_used, mig.memory_total) == (5010 * MIB, 19968 * MIB)
    assert [(i.gpu_instance_id, i.util_percent) for i in mig.mig_instances] == [
        (9, None),
        (10, 0.0),
    ]
    # A GPU_I_ID that is no number is read as the whole GPU it names, not as an instance.
    assert (other.index, other.mig_instances, other.memory_used) == (1, (), 7 * MIB)


def test_a_failed_query_is_that_parts_error_only() -> None:
    node = {"instance": "gpu01:9100", "job": "node"}
    failed = PromError("error", "Prometheus at http://p: HTTP 503: overloaded")
    answers = _answers(mem_total=[(node, 8e9)], mem_available=[(node, 6e9)], gpu_util=failed)
    [snap] = assemble(answers, [TargetHealth(node, True, "")], now=1.0)
    assert snap.state is HostState.UP and snap.memory is not None
    assert snap.memory.used == 2_000_000_000
    assert snap.gpu_error == "query gpu_util failed: Prometheus at http://p: HTTP 503: overloaded"
    assert snap.system_error is None


def test_target_error_names_the_missing_part() -> None:
    node = {"instance": "gpu01:9100", "job": "node"}
    dcgm = {"instance": "gpu01:9400", "job": "dcgm"}
    targets = [TargetHealth(node, True, ""), TargetHealth(dcgm, False, "context deadline exceeded")]
    [snap] = assemble(_answers(load1=[(node, 0.5)]), targets, now=1.0)
    assert snap.state is HostState.UP
    assert snap.gpu_error == (
        "no NVIDIA GPU found in Prometheus (no dcgm-exporter series); "
        "target dcgm gpu01:9400 down: context deadline exceeded"
    )


def test_pods_and_hpc_jobs_on_gpus_are_owned_containers() -> None:
    pod = {**GPU, "namespace": "research", "pod": "alice-train-7f9c", "container": "main"}
    job = {**GPU, "gpu": "1", "UUID": "GPU-b", "hpc_job": "4711"}
    cadvisor = {"instance": "10.0.0.9:8080", "id": "/kubepods/pod1/abc", "namespace": "research",
                "pod": "alice-train-7f9c", "container": "main", "image": "train:1"}  # fmt: skip
    answers = _answers(
        gpu_util=[(pod, 90.0), (job, 10.0)],
        gpu_fb_used=[(pod, 1000.0), (job, 50.0)],
        ctr_memory=[(cadvisor, 5e8)],
    )
    [snap] = assemble(answers, [], now=1.0)
    merged, hpc = snap.containers
    assert (merged.id, merged.name, merged.image) == (
        "/kubepods/pod1/abc",
        "alice-train-7f9c",
        "train:1",
    )
    assert (merged.gpus, merged.gpu_memory_used, merged.owner) == ((0,), 1000 * MIB, "alice")
    assert merged.memory_used == 500_000_000
    assert (hpc.id, hpc.name, hpc.gpus, hpc.gpu_memory_used) == (
        "hpc_job:4711",
        "job 4711",
        (1,),
        50 * MIB,
    )
    assert hpc.owner is None  # a job number names nobody; an `owner` label would


def _exposition(relative: str, instance: str) -> dict[str, list[Series]]:
    """A real exposition as instant-query answers by metric name (one scrape, one instance)."""
    from prometheus_client.parser import text_string_to_metric_families

    found: dict[str, list[Series]] = {}
    for family in text_string_to_metric_families(read_fixture(relative)):
        for sample in family.samples:
            labels = {**sample.labels, "instance": instance, "job": "node"}
            found.setdefault(sample.name, []).append((labels, float(sample.value)))
    return found


def test_node_exporter_capture_without_memavailable() -> None:
    """The node_exporter e2e output (a 2014-era kernel: no MemAvailable): memory as `free`
    counts it, load and boot time exactly."""
    series = _exposition(
        "prometheus/node-exporter-e2e-fixture-cpu-memory-load-TRIMMED.prom", "n1:9100"
    )
    by_query = {name: series.get(promql, []) for name, promql in QUERIES.items()}
    [snap] = assemble(_answers(**by_query), [], now=1.418183276e9 + 3600)
    assert snap.load == (0.21, 0.37, 0.39)
    assert snap.uptime_s == 3600
    assert snap.memory is not None and snap.memory.available is None
    assert snap.memory.total == 3831959552
    assert snap.memory.used == 3831959552 - 230883328 - 22568960 - 953229312
    assert snap.memory.swap_used == 4294963200 - 3231088640
