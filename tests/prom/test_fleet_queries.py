"""A large fleet's cheaper GPU queries find what the former ones found, against a real
Prometheus: XIDs compared before the max, and the SM clocks of GPUs without utilisation asked
with the utilisation."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.sources.prometheus.fleet import CLOCK_TAG, fleet_queries, split_clock
from clustertop.sources.prometheus.gpus import GPU_FIELDS, gpu_keep
from tests.prom.servers import VICTORIA, Prometheus, StandIn, Target, VictoriaMetrics
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.waiting import wait_for

_LABELS = (
    'gpu="{gpu}",UUID="GPU-{gpu}",device="nvidia{gpu}",modelName="NVIDIA H100",Hostname="dgx1"'
)
SERIES = [
    ("0", "", 0), ("1", "", 79), ("2", "", 43),
    ("3", "1", 48), ("3", "2", 48), ("4", "1", 0),  # MIG instances repeat their GPU's XID
]  # fmt: skip


UTIL = {"0": 37, "1": 0, "2": 99}
"""Utilisation of some GPUs: the others are known by their SM clock alone."""


def _exposition() -> str:
    lines = []
    for metric, values in (("DCGM_FI_DEV_XID_ERRORS", None), ("DCGM_FI_DEV_GPU_UTIL", UTIL),
                           ("DCGM_FI_DEV_SM_CLOCK", None)):  # fmt: skip
        lines.append(f"# TYPE {metric} gauge")
        for gpu, gi, xid in SERIES:
            extra = f',GPU_I_ID="{gi}",GPU_I_PROFILE="3g.40gb"' if gi else ""
            value = xid if metric.endswith("XID_ERRORS") else 1380 + int(gpu)
            if values is not None:
                if gpu not in values or gi:
                    continue
                value = values[gpu]
            lines.append(f"{metric}{{{_LABELS.format(gpu=gpu)}{extra}}} {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def prometheus(request: pytest.FixtureRequest) -> Iterator[Prometheus]:
    """Prometheus, then VictoriaMetrics (the same API and queries)."""
    if request.param == "victoriametrics" and not Path(VICTORIA).is_file():
        pytest.skip("victoria-metrics missing (Debian victoria-metrics)")
    if request.param == "prometheus" and prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    kind = VictoriaMetrics if request.param == "victoriametrics" else Prometheus
    with tempfile.TemporaryDirectory(prefix="ctprom-fleetq-") as name:
        dcgm = StandIn(_exposition()).start()
        server = kind(Path(name), [Target("dcgm", dcgm.address)])
        try:
            server.start()
            wait_for(
                lambda: server.query(f"count(DCGM_FI_DEV_SM_CLOCK) == {len(SERIES)}"),
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


def test_the_sm_clocks_come_with_the_utilisation_as_they_came_alone(prometheus: Prometheus) -> None:
    keep = gpu_keep("instance")
    util = f"max by ({keep}) ({GPU_FIELDS['gpu_util']})"
    alone = f"max by ({keep}) ({GPU_FIELDS['gpu_sm_clock']}) unless {util}"
    lean = fleet_queries("instance")
    assert "gpu_sm_clock" not in lean
    both = prometheus.query(lean["gpu_util"])
    series = [(r["metric"], float(r["value"][1])) for r in both]
    got_util, got_clocks = split_clock(series, {})
    expected_util = prometheus.query(util)
    expected_clocks = prometheus.query(alone)
    assert _found([{"metric": m, "value": [0, str(v)]} for m, v in got_util]) == _found(
        [{**r, "value": [0, str(float(r["value"][1]))]} for r in expected_util]
    )
    assert all(CLOCK_TAG not in m for m, _ in got_clocks)
    assert _found([{"metric": m, "value": [0, str(v)]} for m, v in got_clocks]) == _found(
        [{**r, "value": [0, str(float(r["value"][1]))]} for r in expected_clocks]
    )
    assert sorted(m["gpu"] + "/" + m.get("GPU_I_ID", "") for m, _ in got_clocks) == [
        "3/1", "3/2", "4/1",
    ]  # fmt: skip


def test_split_clock_keeps_each_untagged_label_set_while_it_comes_back() -> None:
    util = {"gpu": "0", "Hostname": "a"}
    clock = {"gpu": "1", "Hostname": "a", CLOCK_TAG: "1"}
    untagged: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
    plain = [(util, 5.0)]
    assert split_clock(plain, untagged) == (plain, []) and split_clock(plain, untagged)[0] is plain
    first = split_clock([(util, 5.0), (clock, 1380.0)], untagged)
    again = split_clock([(clock, 1395.0), (util, 7.0)], untagged)
    assert first == ([(util, 5.0)], [({"gpu": "1", "Hostname": "a"}, 1380.0)])
    assert again[0] == [(util, 7.0)] and again[1][0][1] == 1395.0
    assert again[1][0][0] is first[1][0][0]  # the same labels: the reading is filed in place
    split_clock(plain, untagged)
    assert not untagged  # gone when no clock comes back
