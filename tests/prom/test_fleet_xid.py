"""A large fleet's XID query (compared before the max) finds the same GPUs with the same
errors as the max compared after it, against a real Prometheus."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.sources.prometheus.fleet import fleet_queries
from clustertop.sources.prometheus.gpus import GPU_FIELDS, gpu_keep
from tests.prom.servers import Prometheus, StandIn, Target
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.waiting import wait_for

_LABELS = (
    'gpu="{gpu}",UUID="GPU-{gpu}",device="nvidia{gpu}",modelName="NVIDIA H100",Hostname="dgx1"'
)
SERIES = [
    ("0", "", 0), ("1", "", 79), ("2", "", 43),
    ("3", "1", 48), ("3", "2", 48), ("4", "1", 0),  # MIG instances repeat their GPU's XID
]  # fmt: skip


def _exposition() -> str:
    lines = ["# TYPE DCGM_FI_DEV_XID_ERRORS gauge"]
    for gpu, gi, xid in SERIES:
        extra = f',GPU_I_ID="{gi}",GPU_I_PROFILE="3g.40gb"' if gi else ""
        lines.append(f"DCGM_FI_DEV_XID_ERRORS{{{_LABELS.format(gpu=gpu)}{extra}}} {xid}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    if prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    with tempfile.TemporaryDirectory(prefix="ctprom-xid-") as name:
        dcgm = StandIn(_exposition()).start()
        server = Prometheus(Path(name), [Target("dcgm", dcgm.address)])
        try:
            server.start()
            wait_for(
                lambda: server.query(f"count(DCGM_FI_DEV_XID_ERRORS) == {len(SERIES)}"),
                30, 0.2, "the stand-in dcgm-exporter scraped",
            )  # fmt: skip
            yield server
        finally:
            server.stop()
            dcgm.stop()


def _found(result: list[dict[str, Any]]) -> list[tuple[tuple[tuple[str, str], ...], str]]:
    return sorted((tuple(sorted(r["metric"].items())), r["value"][1]) for r in result)


def test_the_fleet_xid_query_equals_the_max_compared_after(prometheus: Prometheus) -> None:
    keep = gpu_keep("instance")
    after = f"max by ({keep}) ({GPU_FIELDS['gpu_xid']}) != 0"
    lean = fleet_queries("instance")["gpu_xid"]
    assert lean != after  # the cheaper form is what a fleet reading asks
    found = _found(prometheus.query(lean))
    assert found == _found(prometheus.query(after))
    errors = sorted(
        (dict(labels)["gpu"], dict(labels).get("GPU_I_ID", ""), v) for labels, v in found
    )
    assert errors == [("1", "", "79"), ("2", "", "43"), ("3", "1", "48"), ("3", "2", "48")]
