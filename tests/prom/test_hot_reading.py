"""A large fleet's hot readings (between sweeps: rows in view, the open host, hosts down) give
those hosts the rows a sweep gives them, and no other host, against a real Prometheus (the
fleet threshold lowered so the test stack of four hosts is read as a large fleet)."""

from __future__ import annotations

import asyncio

import pytest

from clustertop.model import HostSnapshot, HostState
from clustertop.sources.prometheus.client import PromClient, PromError, Series
from clustertop.sources.prometheus.hot import (
    host_values,
    hot_queries,
    merged,
    one_of,
    restrict,
    split,
)
from clustertop.sources.prometheus.source import PrometheusSource
from tests.prom.test_fleet_reading import NAMES, STEADY, _cells, _source, as_fleet  # noqa: F401
from tests.prom.test_prometheus_source import Stack, stack  # noqa: F401 - the fixture


def _read(source: PrometheusSource, times: int) -> list[list[HostSnapshot]]:
    async def go() -> list[list[HostSnapshot]]:
        try:
            return [await source.read() for _ in range(times)]
        finally:
            await source.aclose()

    return asyncio.run(go())


def _fs(snap: HostSnapshot) -> list[tuple[str, str, str, int | None]]:
    """The filesystems (this machine's, through node_exporter: their use moves between two
    readings, their identity and size do not)."""
    return [(d.mount, d.device, d.fstype, d.total) for d in snap.disks]


def _same_rows(got: HostSnapshot, want: HostSnapshot) -> None:
    assert (got.state, got.error) == (want.state, want.error), got.name
    assert {k: _cells(got)[k] for k in STEADY} == {k: _cells(want)[k] for k in STEADY}
    assert got.gpus == want.gpus, got.name
    assert got.containers == want.containers, got.name
    assert _fs(got) == _fs(want), got.name
    assert (got.gpu_error, got.docker_error, got.disks_error, got.system_error) == (
        want.gpu_error, want.docker_error, want.disks_error, want.system_error,
    )  # fmt: skip


@pytest.mark.usefixtures("as_fleet")
@pytest.mark.parametrize("shown", [["gpu2"], ["k8s-gpu1", "dcgm-exporter-lcxpl"], []])
def test_a_hot_reading_reads_the_rows_in_view_and_the_hosts_down(
    stack: Stack,  # noqa: F811
    shown: list[str],
) -> None:
    sweeper, source = _source(stack.prometheus.url), _source(stack.prometheus.url)
    [swept] = _read(sweeper, 1)
    source.view(shown)
    sweep, hot = _read(source, 2)
    assert [s.name for s in sweep] == NAMES  # the first reading is a sweep
    # down1 (nothing listening) is down: read each time, to see it come back.
    assert [s.name for s in hot] == [n for n in NAMES if n in shown or n == "down1"]
    by_name = {s.name: s for s in swept}
    for snap in hot:
        _same_rows(snap, by_name[snap.name])
    assert next(s for s in hot if s.name == "down1").state is HostState.UNREACHABLE


@pytest.mark.usefixtures("as_fleet")
def test_the_open_host_is_read_hot_with_its_detail(stack: Stack) -> None:  # noqa: F811
    full_source, source = _source(stack.prometheus.url), _source(stack.prometheus.url)
    source.view(["k8s-gpu1"])
    source.focus("gpu2")

    async def go() -> tuple[list[HostSnapshot], ...]:
        try:
            return await full_source.read(full=True), await source.read(), await source.read()
        finally:
            await full_source.aclose()
            await source.aclose()

    full, _, hot = asyncio.run(go())
    assert [s.name for s in hot] == ["down1", "gpu2", "k8s-gpu1"]
    [gpu] = next(s for s in hot if s.name == "gpu2").gpus
    assert gpu.power_w == 302.206  # a detail field, asked for the open host alone
    assert gpu == next(s for s in full if s.name == "gpu2").gpus[0]


@pytest.mark.usefixtures("as_fleet")
def test_a_host_found_down_between_sweeps_is_read(stack: Stack) -> None:  # noqa: F811
    source = _source(stack.prometheus.url)
    source.view(["gpu2"])

    async def go() -> list[HostSnapshot]:
        try:
            await source.read()
            source._down.clear()  # as if down1 went down after the sweep
            return await source.read()
        finally:
            await source.aclose()

    hot = asyncio.run(go())
    assert [s.name for s in hot] == ["down1", "gpu2"]  # up == 0 is asked of every target
    assert "down" in (hot[0].error or "")


@pytest.mark.usefixtures("as_fleet")
def test_a_sweep_comes_every_sweep_s(stack: Stack) -> None:  # noqa: F811
    source = _source(stack.prometheus.url)
    source.view(["gpu2"])
    source.sweep_s = 0.0
    readings = _read(source, 3)
    assert [[s.name for s in r] for r in readings] == [NAMES] * 3


@pytest.mark.usefixtures("as_fleet")
def test_without_a_view_every_reading_is_a_sweep(stack: Stack) -> None:  # noqa: F811
    readings = _read(_source(stack.prometheus.url), 2)
    assert [[s.name for s in r] for r in readings] == [NAMES] * 2


def test_hot_queries_of_hostile_names_select_nothing_else(stack: Stack) -> None:  # noqa: F811
    """Names that are PromQL or regex text are quoted: they select nothing, and parse."""
    names = ['a"b\\c) or vector(1', "gpu.", "k8s-gpu1|gpu2", "gpu2:[0-9]+", "\x1b[31m", "ü-x"]
    for name in names:
        for query_name, query in hot_queries("instance", [name], {name})[0].items():
            if query_name != "up":  # every target's `up == 0`
                assert stack.prometheus.query(query) == [], (name, query)


def test_hot_queries_select_the_hosts_series_alone(stack: Stack) -> None:  # noqa: F811
    seen = {"gpu2:9100": "gpu2", "gpu2:9400": "gpu2", "gpu2:8080": "gpu2", "k8s-gpu1:9100": "k8s"}
    values = host_values(seen, {"gpu2"})
    assert values == {"gpu2", "gpu2:9100", "gpu2:9400", "gpu2:8080"}
    found = stack.prometheus.query(hot_queries("instance", ["gpu2"], values)[0]["merged:0"])
    # node_exporter's load, memory and boot time, asked as one query: of gpu2's node alone.
    assert {s["metric"]["instance"] for s in found} == {"gpu2:9100"} and len(found) == 8
    gpus = stack.prometheus.query(
        hot_queries("instance", ["k8s-gpu1"], {"k8s-gpu1"})[0]["gpu_util"]
    )
    assert gpus and {s["metric"]["Hostname"] for s in gpus} == {"k8s-gpu1"}


def test_merged_queries_answer_as_their_parts() -> None:
    queries, parts = merged(
        {
            "a": "node_a",
            "b": 'node_b{x="1"}',
            "c": "node_c",
            "d": "max by (g) (DCGM_D)",
            "e": "max by (g) (DCGM_E)",
            "f": "irate(node_f[5m])",
            "g": "irate(node_g[5m])",
        }
    )
    assert queries == {
        "b": 'node_b{x="1"}', "f": "irate(node_f[5m])", "g": "irate(node_g[5m])",
        "merged:0": '{__name__=~"node_a|node_c"}',
        "merged:2": 'max by (__name__, g) ({__name__=~"DCGM_D|DCGM_E"})',
    }  # fmt: skip
    answers = {
        "b": [({"__name__": "node_b"}, 2.0)], "f": PromError("bad_data", "no"), "g": [],
        "merged:0": [({"__name__": "node_c", "i": "1"}, 3.0), ({"__name__": "node_a"}, 1.0)],
        "merged:2": PromError("timeout", "slow"),
    }  # fmt: skip
    got = split(answers, parts, "abcdefg")
    assert list(got) == list("abcdefg")
    assert got["a"] == [({"__name__": "node_a"}, 1.0)]
    assert got["c"] == [({"__name__": "node_c", "i": "1"}, 3.0)]
    assert got["d"] is answers["merged:2"] and got["e"] is answers["merged:2"]
    answers["merged:2"] = [({"__name__": "DCGM_E", "g": "0"}, 5.0)]
    got = split(answers, parts, "abcdefg")
    assert got["d"] == [] and got["e"] == [({"g": "0"}, 5.0)]  # as `max by (g)` gives it


def test_restrict_narrows_each_selector() -> None:
    node, gpu = 'instance=~"a:9100"', ['instance=~"a:9100"', 'Hostname=~"a"']
    assert restrict("irate(node_cpu_seconds_total[5m])", node, gpu) == (
        'irate(node_cpu_seconds_total{instance=~"a:9100"}[5m])'
    )
    assert restrict('node_x{fstype!~"a|b}"} unless node_y', node, gpu) == (
        'node_x{fstype!~"a|b}", instance=~"a:9100"} unless node_y{instance=~"a:9100"}'
    )
    assert restrict('max by (gpu) ({__name__=~"DCGM_A|DCGM_B"})', node, gpu) == (
        'max by (gpu) (({__name__=~"DCGM_A|DCGM_B", instance=~"a:9100"} '
        'or {__name__=~"DCGM_A|DCGM_B", Hostname=~"a"}))'
    )
    assert restrict('label_replace(DCGM_X, "node_y", "1", "", "")', node, gpu) == (
        'label_replace((DCGM_X{instance=~"a:9100"} or DCGM_X{Hostname=~"a"}), '
        '"node_y", "1", "", "")'
    )
    assert one_of("Hostname", []) == 'Hostname=~"$^"'
    assert one_of("instance", ["b.c:1", "a"]) == 'instance=~"a|b\\\\.c:1"'


@pytest.mark.usefixtures("as_fleet")
def test_a_failed_hot_query_is_its_parts_error_on_the_hosts_read(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """node_exporter's load, memory and boot time are one merged query in a hot reading: its
    failure is each of those parts' error, named as a full reading names it; GPUs and disks
    still show."""
    query = PromClient.query

    async def failing(self: PromClient, promql: str) -> list[Series]:
        if promql.startswith('{__name__=~"node_load1|'):
            raise PromError("error", "refused for the test")
        return await query(self, promql)

    source = _source(stack.prometheus.url)
    source.view(["gpu2"])

    async def go() -> tuple[list[HostSnapshot], list[HostSnapshot]]:
        try:
            sweep = await source.read()
            monkeypatch.setattr(PromClient, "query", failing)
            return sweep, await source.read()
        finally:
            await source.aclose()

    sweep, hot = asyncio.run(go())
    was, now = next(s for s in sweep if s.name == "gpu2"), next(s for s in hot if s.name == "gpu2")
    assert now.state is HostState.UP
    assert now.system_error == "query load1 failed: refused for the test"
    assert now.gpus == was.gpus and now.gpus and _fs(now) == _fs(was) and now.disks
    assert now.load is None and now.memory is None


@pytest.mark.usefixtures("as_fleet")
def test_after_prometheus_fails_every_host_is_read_again(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prometheus unreachable in a hot reading: every host gets that error, and the next
    reading is a sweep (no row keeps the error until the next sweep was due)."""
    query = PromClient.query

    async def down(self: PromClient, promql: str) -> list[Series]:
        raise PromError("unreachable", "connection refused (test)")

    source = _source(stack.prometheus.url)
    source.view(["gpu2"])

    async def go() -> list[list[HostSnapshot]]:
        try:
            readings = [await source.read()]
            monkeypatch.setattr(PromClient, "query", down)
            readings.append(await source.read())
            monkeypatch.setattr(PromClient, "query", query)
            readings += [await source.read(), await source.read()]
            return readings
        finally:
            await source.aclose()

    sweep, failed, again, hot = asyncio.run(go())
    assert [s.name for s in failed] == NAMES
    assert all(s.state is HostState.UNREACHABLE for s in failed)
    assert [s.name for s in again] == NAMES and [s.name for s in hot] == ["down1", "gpu2"]
    assert {s.name: s.state for s in again} == {s.name: s.state for s in sweep}


def test_another_host_label_still_selects_gpus_by_hostname() -> None:
    """With host_label = "node", dcgm-exporter series without a `node` label are placed by
    Hostname: a hot reading asks for them by it too."""
    queries, _ = hot_queries("node", ["gpu7"], {"gpu7"})
    assert (
        'DCGM_FI_DEV_GPU_UTIL{node=~"gpu7"} or DCGM_FI_DEV_GPU_UTIL{Hostname=~"gpu7"} or '
        in (queries["gpu_util"])
    )
    assert 'DCGM_FI_DEV_FB_FREE", Hostname=~"gpu7"}' in queries["merged:3"]
    assert queries["merged:0"].endswith('node_boot_time_seconds", node=~"gpu7"}')
