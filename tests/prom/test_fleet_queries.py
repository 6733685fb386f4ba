"""A large fleet's cheaper GPU queries find what the former ones found, against a real
Prometheus: XIDs compared before the max, and the SM clocks of GPUs without utilisation asked
with the utilisation."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clustertop.sources.prometheus.client import PromError
from clustertop.sources.prometheus.fleet import CLOCK_TAG, fleet_queries, split_clock
from clustertop.sources.prometheus.gpus import GPU_FIELDS, GPU_LABELS, gpu_keep
from clustertop.sources.prometheus.labelled import LabelMemo, part_labels, sweep_queries
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


def _series(result: list[dict[str, Any]]) -> list[tuple[dict[str, str], float]]:
    return [(r["metric"], float(r["value"][1])) for r in result]


def _by_gpu(found: list[tuple[dict[str, str], float]]) -> list[tuple[str, float]]:
    return sorted((m["gpu"] + "/" + m.get("GPU_I_ID", ""), v) for m, v in found)


def test_a_sweeps_labels_give_the_utilisation_and_clocks_the_fleet_queries_give(
    prometheus: Prometheus,
) -> None:
    """A sweep reads the utilisation from the labels' raw answer and asks the SM clocks alone:
    each GPU's utilisation, clock and labels are those of the queries it no longer asks."""
    keep = gpu_keep("instance")
    wanted = sweep_queries("instance")
    assert "gpu_util" not in wanted and "gpu_gr_active" not in wanted
    raw = _series(prometheus.query(wanted[GPU_LABELS]))
    clocks = _series(prometheus.query(wanted["gpu_sm_clock"]))
    memo: LabelMemo = {}
    parted = part_labels(raw, clocks, "instance", memo)
    util_query = f"max by ({keep}) ({GPU_FIELDS['gpu_util']})"
    util = _series(prometheus.query(util_query))
    alone = f"max by ({keep}) ({GPU_FIELDS['gpu_sm_clock']}) unless {util_query}"
    assert _by_gpu(parted["gpu_util"]) == _by_gpu(util) == [("0/", 37.0), ("1/", 0.0), ("2/", 99.0)]
    assert _by_gpu(parted["gpu_sm_clock"]) == _by_gpu(_series(prometheus.query(alone)))
    assert parted["gpu_gr_active"] == []
    grouped = _series(prometheus.query(labels_fallback_of_util()))
    assert sorted(map(_items, (m for m, _ in parted[GPU_LABELS]))) == sorted(
        map(_items, (m for m, _ in grouped))
    )
    again = part_labels(raw, clocks, "instance", memo)
    # The same label sets each sweep while they come back (the reading is filed in place).
    assert all(a[0] is b[0] for a, b in zip(again[GPU_LABELS], parted[GPU_LABELS], strict=True))
    failed = PromError("timeout", "labels timed out")
    assert part_labels(failed, clocks, "instance", {}) == {
        "gpu_util": failed, "gpu_gr_active": failed, "gpu_sm_clock": clocks, GPU_LABELS: failed,
    }  # fmt: skip


def labels_fallback_of_util() -> str:
    """The labels query a sweep asked before (its label sets, from the same two fields)."""
    return (
        f'group without () ({{__name__=~"{GPU_FIELDS["gpu_util"]}|{GPU_FIELDS["gpu_gr_active"]}"}})'
    )


def _items(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def test_the_largest_of_a_gpus_series_is_its_utilisation() -> None:
    """Two series of one GPU (two jobs scraping one exporter): the largest, as `max by`."""
    one = {"__name__": "DCGM_FI_DEV_GPU_UTIL", "gpu": "0", "Hostname": "a", "job": "x"}
    two = {**one, "job": "y"}
    engine = {**one, "__name__": "DCGM_FI_PROF_GR_ENGINE_ACTIVE", "GPU_I_ID": "1"}
    parted = part_labels([(one, 20.0), (two, 30.0), (engine, 0.5)], [], "instance", {})
    assert [v for _, v in parted["gpu_util"]] == [30.0]
    assert [(m["GPU_I_ID"], v) for m, v in parted["gpu_gr_active"]] == [("1", 0.5)]
    assert all("__name__" not in m for m, _ in parted[GPU_LABELS])
