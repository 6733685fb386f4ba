"""A large fleet's lean readings give the same rows as full ones, against a real Prometheus
(the fleet threshold lowered so the test stack of four hosts is read as a large fleet)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from clustertop.model import Gpu, HostSnapshot
from clustertop.sources.prometheus import labelled
from clustertop.sources.prometheus import source as prom_source
from clustertop.sources.prometheus.client import PromClient, PromSettings, Series
from clustertop.sources.prometheus.fleet import detail_queries, host_matchers, labels_fallback
from clustertop.sources.prometheus.gpus import GPU_LABELS
from clustertop.sources.prometheus.source import PrometheusSource
from clustertop.ui.columns import GRID_COLUMNS, GridContext, host_row
from tests.prom.servers import Prometheus
from tests.prom.test_prometheus_mig import prometheus  # noqa: F401 - the fixture
from tests.prom.test_prometheus_source import Stack, stack  # noqa: F401 - the fixture

NAMES = ["dcgm-exporter-lcxpl", "down1", "gpu2", "k8s-gpu1"]
# Read from replayed captures (fixed values): node_exporter's live readings move between reads.
STEADY = ("host", "gpus", "gpumem", "temp", "ctrs")


def _source(url: str) -> PrometheusSource:
    return PrometheusSource(PromSettings(url), NAMES, interval=1.0, host_label="instance")


def _cells(snap: HostSnapshot) -> dict[str, str]:
    row = host_row(snap, GridContext(now=snap.time, interval=1.0))
    return {c.key: cell.plain for c, cell in zip(GRID_COLUMNS, row.cells, strict=True)}


def _lean(gpu: Gpu) -> Gpu:
    """A GPU as a fleet reading has it for a host not on screen (no detail fields)."""
    return replace(gpu, power_w=None, memory_util_percent=None)


async def _readings(url: str, focus: str | None) -> tuple[list[HostSnapshot], ...]:
    full_source, fleet_source = _source(url), _source(url)
    fleet_source.focus(focus)
    try:
        full = await full_source.read(full=True)
        first = await fleet_source.read()  # asks for the GPUs' labels and sizes
        second = await fleet_source.read()  # uses the ones kept from the first
    finally:
        await full_source.aclose()
        await fleet_source.aclose()
    return full, first, second


@pytest.fixture
def as_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prom_source, "FLEET_MIN_HOSTS", 0)


@pytest.mark.usefixtures("as_fleet")
def test_fleet_rows_equal_full_rows(stack: Stack) -> None:  # noqa: F811
    full, first, second = asyncio.run(_readings(stack.prometheus.url, None))
    for lean in (first, second):
        assert [s.name for s in lean] == NAMES
        for was, now in zip(full, lean, strict=True):
            assert now.state is was.state and now.error == was.error, now.name
            shown, expected = _cells(now), _cells(was)
            errors = [(s.system_error, s.gpu_error, s.disks_error, s.stale) for s in (was, now)]
            assert {k: shown[k] for k in STEADY} == {k: expected[k] for k in STEADY}, errors
            assert now.gpus == tuple(_lean(g) for g in was.gpus), now.name
            assert now.containers == was.containers
            assert (now.gpu_error, now.docker_error) == (was.gpu_error, was.docker_error)
    assert any(s.gpus for s in second) and any(s.containers for s in second)


@pytest.mark.usefixtures("as_fleet")
def test_the_open_host_has_its_full_gpus(stack: Stack) -> None:  # noqa: F811
    full, _, second = asyncio.run(_readings(stack.prometheus.url, "gpu2"))
    by_name = {s.name: s for s in full}
    for snap in second:
        want = by_name[snap.name].gpus
        assert snap.gpus == (want if snap.name == "gpu2" else tuple(_lean(g) for g in want))
    [gpu] = next(s for s in second if s.name == "gpu2").gpus
    assert gpu.power_w == 302.206


def test_a_host_name_is_quoted_in_promql(stack: Stack) -> None:  # noqa: F811
    """Hostile or regex-like names select nothing else and never break the query."""
    for name in ('a"b\\c) or vector(1', "gpu.", "k8s-gpu1|gpu2"):
        for query in detail_queries("instance", name).values():
            assert stack.prometheus.query(query) == [], (name, query)
    assert host_matchers("node", "gpu.") == ['node=~"gpu\\\\.(:[0-9]+)?"']


@pytest.mark.usefixtures("as_fleet")
def test_mig_gpus_of_a_fleet_reading_equal_full_ones(prometheus: Prometheus) -> None:  # noqa: F811
    async def both() -> tuple[list[HostSnapshot], ...]:
        full_source, fleet_source = (
            PrometheusSource(PromSettings(prometheus.url), ["dgx-mig1"], interval=1.0,
                             host_label="instance")
            for _ in range(2)
        )  # fmt: skip
        try:
            full = await full_source.read(full=True)
            return full, await fleet_source.read(), await fleet_source.read()
        finally:
            await full_source.aclose()
            await fleet_source.aclose()

    full, first, second = asyncio.run(both())
    [want] = full
    assert want.gpus and want.gpus[0].mig_mode == "Enabled"
    for [got] in (first, second):
        assert _cells(got)["gpus"] == _cells(want)["gpus"]
        assert _cells(got)["gpumem"] == _cells(want)["gpumem"]
        assert got.gpus == tuple(_lean(g) for g in want.gpus)


@pytest.mark.usefixtures("as_fleet")
def test_a_failed_detail_query_is_noted_on_the_open_host_alone(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(host_label: str, host: str) -> dict[str, str]:
        queries = detail_queries(host_label, host)
        return dict.fromkeys(queries, "max by (")  # Prometheus refuses it: a bad query

    monkeypatch.setattr(prom_source, "detail_queries", broken)
    _, _, second = asyncio.run(_readings(stack.prometheus.url, "gpu2"))
    errors = {s.name: s.gpu_error for s in second}
    assert (errors["gpu2"] or "").startswith("GPU detail: "), errors
    assert all(e is None for n, e in errors.items() if n != "gpu2"), errors
    assert next(s for s in second if s.name == "gpu2").gpus, "its fleet fields still show"


@pytest.mark.usefixtures("as_fleet")
def test_gpus_without_utilisation_get_their_labels_from_every_field(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack's Titan V exporter has only the SM clock: the labels query (utilisation and
    engine activity) does not name its GPUs, so the reading asks every field's labels too,
    and its GPUs are those of a full reading (test_fleet_rows_equal_full_rows)."""
    asked: list[str] = []
    query = PromClient.query

    async def recorded(self: PromClient, promql: str) -> list[Series]:
        asked.append(promql)
        return await query(self, promql)

    monkeypatch.setattr(PromClient, "query", recorded)
    full, first, _ = asyncio.run(_readings(stack.prometheus.url, None))
    fallback = labels_fallback()
    assert asked.count(fallback) == 1, "asked on the reading that asks for labels only"
    titan = {s.name: s for s in first}["dcgm-exporter-lcxpl"]
    assert titan.gpus and titan.gpus == {s.name: s for s in full}["dcgm-exporter-lcxpl"].gpus
    assert all(g.uuid and g.name for g in titan.gpus)


@pytest.mark.usefixtures("as_fleet")
def test_a_sweep_whose_labels_fail_still_shows_each_gpus_utilisation(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The labels' answer carries a sweep's utilisation (labelled.py): when it fails (here
    Prometheus refuses the query), the utilisation is asked as other readings ask it, and the
    rows show it with no GPU error."""
    info = labelled.info_queries

    def refused(host_label: str) -> dict[str, str]:
        return {**info(host_label), GPU_LABELS: "max by ("}

    monkeypatch.setattr(labelled, "info_queries", refused)
    full, first, _ = asyncio.run(_readings(stack.prometheus.url, None))
    for was, now in zip(full, first, strict=True):
        assert now.gpu_error == was.gpu_error, now.name
        assert [(g.index, g.util_percent) for g in now.gpus] == [
            (g.index, g.util_percent) for g in was.gpus
        ], now.name
    assert any(g.util_percent is not None for s in first for g in s.gpus)


@pytest.mark.usefixtures("as_fleet")
def test_a_host_opened_gets_its_detail_at_once(stack: Stack) -> None:  # noqa: F811
    """Opening a host in a large fleet wakes the source: the reading that asks for its detail
    comes at once, not at the interval's end (30 s here)."""

    async def opened() -> tuple[float, HostSnapshot]:
        source = PrometheusSource(
            PromSettings(stack.prometheus.url), NAMES, interval=30.0, host_label="instance"
        )
        got: list[HostSnapshot] = []
        task = asyncio.create_task(source.run(got.append))

        async def until(found: Callable[[], HostSnapshot | None], what: str) -> HostSnapshot:
            deadline = time.monotonic() + 20.0
            while (snap := found()) is None:
                assert time.monotonic() < deadline, f"no {what} within 20 s"
                await asyncio.sleep(0.05)
            return snap

        def gpu2(detail: bool) -> HostSnapshot | None:
            for snap in reversed(got):
                if snap.name == "gpu2" and snap.gpus:
                    return snap if not detail or snap.gpus[0].power_w is not None else None
            return None

        try:
            first = await until(lambda: gpu2(False), "first reading")
            assert first.gpus[0].power_w is None, "a fleet reading leaves the detail out"
            started = time.monotonic()
            source.focus("gpu2")
            snap = await until(lambda: gpu2(True), "reading with gpu2's detail")
            return time.monotonic() - started, snap
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await source.aclose()

    took, snap = asyncio.run(opened())
    assert snap.gpus[0].power_w == 302.206
    assert took < 15.0, f"{took:.1f} s: the reading waited for the interval"
