"""MIG over Prometheus: dcgm-exporter's GPU-instance series folded under their GPU, each
instance's utilisation from DCGM_FI_PROF_GR_ENGINE_ACTIVE, through a real Prometheus."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustertop.model import MIB
from clustertop.sources.prometheus.past import past_snapshots
from tests.prom.servers import Prometheus, StandIn, Target
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.prom.test_prometheus_source import hosts_of, once
from tests.waiting import wait_for

EXPOSITION = Path(__file__).parent / "data" / "dcgm-exporter-h100-mig-standin.prom"
GPU0 = "GPU-63d1e50a-b952-d15c-0740-12bc14859142"


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    if prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    with tempfile.TemporaryDirectory(prefix="ctprom-mig-") as name:
        dcgm = StandIn(EXPOSITION.read_text()).start()
        server = Prometheus(Path(name), [Target("dcgm-mig", dcgm.address)])
        try:
            server.start()
            wait_for(
                lambda: server.query("count(DCGM_FI_PROF_GR_ENGINE_ACTIVE) == 5"),
                30, 0.2, "the stand-in dcgm-exporter scraped",
            )  # fmt: skip
            yield server
        finally:
            server.stop()
            dcgm.stop()


def test_instances_fold_under_their_gpu_with_their_own_utilisation(
    prometheus: Prometheus,
) -> None:
    code, doc, err = once("--prometheus", prometheus.url, "--stale-after", "0")
    assert code == 0, err
    host = hosts_of(doc)["dgx-mig1"]
    mig, whole = host["gpus"]
    assert (mig["index"], mig["uuid"], mig["vendor"], mig["mig_mode"]) == (
        0, GPU0, "nvidia", "Enabled")  # fmt: skip
    # Under MIG the GPU's own utilisation is not reported: unknown, never 0.
    assert mig["util_percent"] is None and mig["temperature_c"] == 52
    assert mig["memory_used"] == (11091 + 17 + 4100 + 9) * MIB
    assert mig["memory_total"] == (40448 + 20096 + 9984 + 9984) * MIB
    rows = [
        (i["gpu_instance_id"], i["profile"], i["memory_used"] // MIB, i["util_percent"])
        for i in mig["mig_instances"]
    ]
    assert rows == [
        (2, "3g.40gb", 11091, 98.2341),
        (3, "2g.20gb", 17, 0.0),
        (9, "1g.10gb", 4100, 0.0),
        (10, "1g.10gb", 9, 0.12),
    ]
    assert (whole["index"], whole["util_percent"], whole["mig_instances"]) == (1, 37, [])
    assert whole["vendor"] == "nvidia" and whole["memory_used"] == 1000 * MIB


def test_free_finder_users_and_the_stale_rule_per_instance(prometheus: Prometheus) -> None:
    code, doc, err = once("--prometheus", prometheus.url, "--stale-after", "0")
    assert code == 0, err
    [free] = [f for f in doc["free_gpus"] if f["host"] == "dgx-mig1"]
    # The two instances holding nothing, idle; no MIG UUID in dcgm-exporter's labels, so no
    # ready line (CUDA_VISIBLE_DEVICES takes the MIG UUID).
    assert [(g["index"], g["mig"]["gpu_instance_id"], g["ready_line"]) for g in free["gpus"]] == [
        (0, 3, None), (0, 10, None)]  # fmt: skip
    assert free["memory_free"] == ((20096 - 17) + (9984 - 9)) * MIB
    [stale] = doc["mig_stale"]["stale"]
    assert (stale["host"], stale["gpu_index"], stale["gpu_instance_id"]) == ("dgx-mig1", 0, 9)
    assert stale["memory_used"] == 4100 * MIB and doc["mig_stale"]["unjudged"] == []
    [alert] = [a for a in doc["alerts"] if a["kind"] == "stale-mig-instance"]
    assert alert["subject"] == f"{GPU0}/9"
    assert alert["message"] == "MIG 1g.10gb GI 9/CI ? on GPU 0 holds 4.0 GiB, idle for 0 min"
    # The pod on GI 2 holds that instance, counted with the instance's own utilisation.
    [pod] = hosts_of(doc)["dgx-mig1"]["containers"]
    assert (pod["name"], pod["gpus"], pod["gpu_memory_used"]) == ("train-0", [0], 11091 * MIB)
    assert pod["mig"] == [[0, {"gpu_instance_id": 2, "compute_instance_id": None, "uuid": None}]]
    assert pod["stale"] is False  # judged by GI 2, busy at 98 %
    [user] = doc["users"]
    assert (user["owner"], user["gpus"], user["mean_util"]) == ("train", 1, 98.2341)


def test_the_past_of_a_mig_gpu_sums_its_instances_memory() -> None:
    labels = {"gpu": "0", "UUID": GPU0, "Hostname": "dgx-mig1"}
    answers = {
        "gpu_fb_used": [
            ({**labels, "GPU_I_ID": "2"}, [(100.0, 11091.0), (102.0, 11000.0)]),
            ({**labels, "GPU_I_ID": "9"}, [(100.0, 4100.0), (102.0, 4100.0)]),
        ]
    }
    past = past_snapshots(answers, ["dgx-mig1"], "instance")
    assert [(s.time, s.gpus[0].memory_used) for s in past] == [
        (100.0, (11091 + 4100) * MIB), (102.0, (11000 + 4100) * MIB)]  # fmt: skip
