"""A host whose series did not change gets its last snapshot again, equal to a fresh one."""

from __future__ import annotations

from clustertop.model import HostSnapshot
from clustertop.sources.prometheus.assemble import QUERIES, assemble
from clustertop.sources.prometheus.client import PromError, PromSettings, Series
from clustertop.sources.prometheus.source import PrometheusSource

NAMES = ["gpu01", "gpu02", "gpu03"]
T0 = 1_700_000_000.0


def _gpu(host: str, index: int, util: float) -> Series:
    return ({"gpu": str(index), "UUID": f"GPU-{host}-{index}", "Hostname": host,
             "instance": f"{host}:9400", "modelName": "NVIDIA H100"}, util)  # fmt: skip


def _answers(util: float = 40.0, fs_error: bool = False) -> dict[str, list[Series] | PromError]:
    node = {"instance": "", "job": "node"}
    got: dict[str, list[Series] | PromError] = {name: [] for name in QUERIES}
    for name, value in (("load1", 1.5), ("mem_total", 8e9), ("mem_available", 4e9),
                        ("boot", T0 - 86_400.0)):  # fmt: skip
        got[name] = [({**node, "instance": f"{h}:9100"}, value) for h in NAMES]
    got["cpu_modes"] = [
        ({**node, "instance": f"{h}:9100", "mode": m}, v)
        for h in NAMES
        for m, v in (("idle", 0.7), ("user", 0.3))
    ]
    got["gpu_info"] = [_gpu(h, i, 0.0) for h in NAMES for i in range(2)]
    got["gpu_util"] = [_gpu(h, i, util if h == "gpu02" else 10.0) for h in NAMES for i in range(2)]
    if fs_error:
        got["fs_size"] = PromError("error", "fs_size refused")
    return got


def _source() -> PrometheusSource:
    return PrometheusSource(
        PromSettings("http://127.0.0.1:9"), NAMES, interval=5.0, host_label="instance"
    )


def _fresh(answers: dict[str, list[Series] | PromError], now: float) -> list[HostSnapshot]:
    return assemble(answers, None, now=now, names=NAMES)


def test_an_unchanged_host_is_its_last_snapshot_retimed() -> None:
    source = _source()
    first = source._assemble(_answers(), None, T0)
    again = source._assemble(_answers(), None, T0 + 5)
    assert again == _fresh(_answers(), T0 + 5)  # times and uptime moved on, all else equal
    assert again[0].uptime_s == 86_405.0
    assert all(a.gpus is b.gpus for a, b in zip(first, again, strict=True))


def test_a_changed_host_is_built_again_and_the_others_kept() -> None:
    source = _source()
    first = source._assemble(_answers(), None, T0)
    busier = source._assemble(_answers(util=95.0), None, T0 + 5)
    assert busier == _fresh(_answers(util=95.0), T0 + 5)
    assert [b.gpus is a.gpus for a, b in zip(first, busier, strict=True)] == [True, False, True]
    assert busier[1].gpus[0].util_percent == 95.0


def test_a_failed_query_builds_every_host_again() -> None:
    source = _source()
    source._assemble(_answers(), None, T0)
    failed = source._assemble(_answers(fs_error=True), None, T0 + 5)
    assert failed == _fresh(_answers(fs_error=True), T0 + 5)
    assert all("fs_size refused" in (s.disks_error or "") for s in failed)


def test_the_detail_note_leaves_a_host_that_is_no_longer_open() -> None:
    source = _source()
    source.focus("gpu02")
    source._detail_error = "GPU detail: refused"
    noted = source._assemble(_answers(), None, T0)
    assert noted[1].gpu_error == "GPU detail: refused"
    source.focus(None)
    source._detail_error = None
    later = source._assemble(_answers(), None, T0 + 5)
    assert later == _fresh(_answers(), T0 + 5)


def _moved(
    answers: dict[str, list[Series] | PromError], value: dict[tuple[str, str], float]
) -> dict[str, list[Series] | PromError]:
    """The same series (the very label maps, as the decoder keeps them) with the values of
    `value` by (query, host) moved."""
    moved: dict[str, list[Series] | PromError] = {}
    for name, got in answers.items():
        if isinstance(got, PromError):
            moved[name] = got
            continue
        moved[name] = [
            (labels, value.get((name, labels.get("Hostname") or labels["instance"]), v))
            for labels, v in got
        ]
    return moved


def test_new_values_of_the_same_series_are_filed_in_place_and_equal_a_fresh_reading() -> None:
    source = _source()
    answers = _answers()
    first = source._assemble(answers, None, T0)
    hosts = source._raw
    busier = _moved(answers, {("gpu_util", "gpu02"): 95.0, ("load1", "gpu03:9100"): 7.5})
    again = source._assemble(busier, None, T0 + 5)
    assert first is not None and again is not None
    assert source._raw is hosts  # filed again in place, not grouped anew
    assert again == _fresh(busier, T0 + 5)
    assert again[1].gpus[0].util_percent == 95.0
    assert [b is a for a, b in zip(first, again, strict=True)] == [False] * 3
    assert [b.gpus is a.gpus for a, b in zip(first, again, strict=True)] == [True, False, True]
    back = _moved(answers, {})
    assert source._assemble(back, None, T0 + 10) == _fresh(back, T0 + 10)


def test_a_series_added_or_relabelled_groups_the_reading_anew() -> None:
    source = _source()
    answers = _answers()
    source._assemble(answers, None, T0)
    hosts = source._raw
    more = dict(answers)
    more["gpu_util"] = [*answers["gpu_util"], _gpu("gpu03", 2, 50.0)]  # type: ignore[misc]
    more["gpu_info"] = [*answers["gpu_info"], _gpu("gpu03", 2, 0.0)]  # type: ignore[misc]
    grown = source._assemble(more, None, T0 + 5)
    assert source._raw is not hosts
    assert grown == _fresh(more, T0 + 5) and len(grown[2].gpus) == 3
    relabelled = _moved(more, {})
    relabelled["mem_available"] = [({"instance": "gpu01:9100", "job": "node"}, 2e9)]
    got = source._assemble(relabelled, None, T0 + 10)
    assert got == _fresh(relabelled, T0 + 10)
    memory = [s.memory.available if s.memory else -1 for s in got]
    assert memory == [2_000_000_000, None, None]
