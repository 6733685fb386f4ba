"""MIG over Prometheus from a REAL dcgm-exporter answer (NVIDIA's documentation of the exporter's
MIG support: an A100 with GPU instance 13, 1g.5gb; see tests/fixtures/real/SOURCES.md), served
to a real Prometheus and read back by `--once --json`, every value checked against the capture."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import MIB
from tests.prom.servers import Prometheus, StandIn, Target
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.prom.test_prometheus_source import hosts_of, once
from tests.realdata import fixture
from tests.waiting import wait_for

CAPTURE = fixture("prometheus/dcgm-exporter-a100-mig-1g5gb-nvidia-docs.prom")
GPU0 = "GPU-34319582-d595-d1c7-d1d2-179bcfa61660"
HOST = "ub20-a100-k8s"  # the capture's Hostname label


@pytest.fixture(scope="module")
def doc() -> Iterator[dict[str, Any]]:
    """One `--once --json` over a Prometheus that scraped the capture."""
    if prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    with tempfile.TemporaryDirectory(prefix="ctprom-migcap-") as name:
        dcgm = StandIn(CAPTURE.read_text()).start()
        server = Prometheus(Path(name), [Target("dcgm-a100", dcgm.address)])
        try:
            server.start()
            # Two GR_ENGINE_ACTIVE series: the GPU's own and GPU instance 13's.
            wait_for(
                lambda: server.query("count(DCGM_FI_PROF_GR_ENGINE_ACTIVE) == 2"),
                30, 0.2, "the captured dcgm-exporter answer scraped",
            )  # fmt: skip
            code, found, err = once("--prometheus", server.url, "--stale-after", "0")
            assert code == 0, err
            yield found
        finally:
            server.stop()
            dcgm.stop()


def test_the_instance_folds_under_its_gpu_with_the_captured_values(doc: dict[str, Any]) -> None:
    host = hosts_of(doc)[HOST]
    assert host["gpu_error"] is None
    [gpu] = host["gpus"]
    assert (gpu["index"], gpu["uuid"], gpu["vendor"], gpu["mig_mode"]) == (
        0, GPU0, "nvidia", "Enabled")  # fmt: skip
    # The GPU's own series: FB_USED 4845 and FB_FREE 35690 MiB, 61 C, 409.692 W, and (no
    # DCGM_FI_DEV_GPU_UTIL in this answer) its graphics engine active 0.995630 of the time.
    assert gpu["memory_used"] == 4845 * MIB
    assert gpu["memory_total"] == (4845 + 35690) * MIB
    assert (gpu["temperature_c"], gpu["power_w"]) == (61.0, 409.692)
    assert gpu["util_percent"] == 99.563
    # This exporter version sends no modelName label: the name is unknown, not invented.
    assert gpu["name"] == ""
    assert gpu["mig_instances"] == [
        {
            "device_index": None,  # dcgm-exporter does not say which MIG device GI 13 is
            "gpu_instance_id": 13,
            "compute_instance_id": None,
            "profile": "1g.5gb",
            "uuid": None,  # no MIG UUID among its labels
            "memory_used": None,  # no FB fields for the instance in this answer: unknown
            "memory_total": None,
            "multiprocessor_count": None,
            "placement": None,
            "util_percent": 99.5687,  # its own GR_ENGINE_ACTIVE, 0.995687
            "error": None,
        }
    ]
    assert gpu["mig_error"] is None


def test_a_busy_instance_is_neither_free_nor_stale(doc: dict[str, Any]) -> None:
    assert [f for f in doc["free_gpus"] if f["host"] == HOST] == []
    assert doc["mig_stale"] == {"stale": [], "unjudged": []}
    assert [a for a in doc["alerts"] if a["kind"] == "stale-mig-instance"] == []
