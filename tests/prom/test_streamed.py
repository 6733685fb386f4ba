"""A large fleet's first reading filed as its answers come (FleetStream) gives the very
snapshots of one filed after the last answer, whatever order the answers come in."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from clustertop.model import HostSnapshot
from clustertop.sources.prometheus.asking import ask_all
from clustertop.sources.prometheus.client import PromClient, PromError, PromSettings, Series
from clustertop.sources.prometheus.fleet import GPU_FB_FREE_ALL
from clustertop.sources.prometheus.gpus import GPU_FB_TOTAL
from clustertop.sources.prometheus.labelled import sweep_queries
from clustertop.sources.prometheus.source import PrometheusSource
from clustertop.sources.prometheus.streamed import FleetStream, section
from tests.prom import test_fleet_reading as fleet_tests
from tests.prom.test_fleet_reading import as_fleet  # noqa: F401 - the fixture
from tests.prom.test_prometheus_source import Stack, stack  # noqa: F401 - the fixture

NAMES = ["n1", "n2", "n3"]
T0 = 1_700_000_000.0
WANTED = sweep_queries("instance")


def _gpu(host: str, index: int, **more: str) -> dict[str, str]:
    return {"gpu": str(index), "Hostname": host, "instance": f"{host}-dcgm:9400", **more}


def _answers(step: float) -> dict[str, list[Series] | PromError]:
    """Every answer of the fleet's first reading, with what makes filing order matter: GPU
    label sets that differ between answers, disks and containers in several answers (in
    other orders), a tagged SM clock, a failed query."""
    got: dict[str, list[Series] | PromError] = {name: [] for name in WANTED}
    node = [{"instance": f"{h}:9100", "job": "node"} for h in NAMES]
    for name, value in (("load1", 1.5), ("mem_total", 8e9), ("mem_available", 4e9)):
        got[name] = [(labels, value + step) for labels in node]
    got["boot"] = PromError("error", "boot refused")
    got["cpu_idle"] = [(labels, 1.2 + step) for labels in node]
    got["cpu_count"] = [(labels, 4.0) for labels in node]
    mounts = [{**n, "mountpoint": m, "device": "sda", "fstype": "ext4"} for n in node
              for m in ("/", "/data")]  # fmt: skip
    got["fs_size"] = [(labels, 1e12) for labels in mounts]
    got["fs_avail"] = [(labels, 5e11 + step) for labels in reversed(mounts)]
    got["fs_free"] = [(labels, 6e11 + step) for labels in mounts]
    ctrs = [({"instance": f"{h}:8080", "id": f"/c{i}", "name": f"job{i}"}, 1e9 + step)
            for h in NAMES for i in range(2)]  # fmt: skip
    got["ctr_memory"] = ctrs
    got["ctr_cpu"] = [({**labels, "pod": "p"}, 0.5) for labels, _ in reversed(ctrs)]
    gpus = [(h, i) for h in NAMES for i in range(2)]
    # n3's GPU 7 has no utilisation: its SM clock alone shows it.
    got["gpu_sm_clock"] = [(_gpu(h, i), 1410.0) for h, i in [*gpus, ("n3", 7)]]
    got["gpu_temp"] = [(_gpu(h, i), 60.0) for h, i in reversed(gpus)]
    got["gpu_fb_used"] = [(_gpu(h, i), 1000.0 + step) for h, i in gpus]
    got["gpu_fb_free_all"] = [(_gpu(h, i), 79000.0) for h, i in gpus]
    got["gpu_labels"] = [  # raw: with their names and the utilisation's values
        ({"__name__": "DCGM_FI_DEV_GPU_UTIL",
          **_gpu(h, i, UUID=f"GPU-{h}-{i}", modelName="NVIDIA H100", pod=f"p{i}")}, 40.0 + step)
        for h, i in gpus
    ]  # fmt: skip
    return got


def _source() -> PrometheusSource:
    settings = PromSettings("http://127.0.0.1:9")
    return PrometheusSource(settings, NAMES, interval=5.0, host_label="instance")


def _read(
    source: PrometheusSource,
    answers: dict[str, list[Series] | PromError],
    stream: FleetStream | None = None,
) -> object:
    """The join of `answers`; with the parts `stream` made of them as they came, as the
    first reading joins (PrometheusSource._fleet_snapshots)."""
    made = None if stream is None else stream.made()
    return source._assemble(source._with_kept(answers, made=made), None, T0)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_answers_filed_as_they_come_give_the_same_snapshots(seed: int) -> None:
    streamed, plain = _source(), _source()
    first = _answers(0.0)
    order = list(first)
    random.Random(seed).shuffle(order)
    stream = streamed._stream = FleetStream(list(WANTED), "instance", streamed._untagged)
    for name in order:
        stream.take(name, first[name])
    made = stream.made()
    assert made is not None, "the labels' parts and the sizes were made as the answers came"
    got, want = _read(streamed, first, stream), _read(plain, first)
    assert streamed._raw is stream.hosts, "the streamed filing was used"
    assert streamed._kept[GPU_FB_TOTAL] is made[GPU_FB_TOTAL], "the sizes were not made again"
    assert isinstance(want, list) and any(s.gpus and s.disks and s.containers for s in want)
    assert got == want
    assert len(want[2].gpus) == 3  # n3: the GPU with a (tagged) SM clock alone too
    # The next reading is filed again in place from where the first one put each value.
    again = _answers(1.0)
    assert _read(streamed, again) == _read(plain, again) == _read(_source(), again)


def test_gpu_records_made_before_the_last_answer_are_those_of_the_join() -> None:
    streamed, first = _source(), _answers(0.0)
    gpu_first = sorted(first, key=lambda n: not n.startswith("gpu"))
    stream = streamed._stream = FleetStream(list(WANTED), "instance", streamed._untagged)
    for name in gpu_first:
        stream.take(name, first[name])
    assert sorted(stream.built) == NAMES, "made once the GPU answers were all in"
    assert _read(streamed, first, stream) == _read(_source(), first)


def test_a_missing_answer_groups_the_reading_anew() -> None:
    source, first = _source(), _answers(0.0)
    stream = source._stream = FleetStream(list(WANTED), "instance", source._untagged)
    for name in list(first)[1:]:  # `up` never came
        stream.take(name, first[name])
    assert _read(source, first, stream) == _read(_source(), first)
    assert source._raw is not stream.hosts


@pytest.mark.usefixtures("as_fleet")
def test_the_first_fleet_reading_of_a_real_prometheus_is_streamed(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """test_fleet_rows_equal_full_rows (fleet rows equal full ones), its first fleet reading filed as its answers came."""
    finished: list[bool] = []
    finish = FleetStream.finish

    def recorded(self: FleetStream, *args: object) -> object:
        got = finish(self, *args)  # type: ignore[arg-type]
        finished.append(got is not None)
        return got

    monkeypatch.setattr(FleetStream, "finish", recorded)
    fleet_tests.test_fleet_rows_equal_full_rows(stack)
    assert finished == [True]


@pytest.mark.usefixtures("as_fleet")
def test_a_first_readings_gpu_queries_are_asked_before_the_others(
    stack: Stack,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The GPU answers (their records are made once all are in) come first: the other
    queries are asked once every GPU query but one is answered."""
    spans: dict[str, tuple[float, float]] = {}
    query = PromClient.query

    async def timed(self: PromClient, promql: str) -> list[Series]:
        start = time.monotonic()
        try:
            return await query(self, promql)
        finally:
            spans[promql] = (start, time.monotonic())

    monkeypatch.setattr(PromClient, "query", timed)

    async def first() -> list[HostSnapshot]:
        source = PrometheusSource(
            PromSettings(stack.prometheus.url), fleet_tests.NAMES, interval=1.0,
            host_label="instance",
        )  # fmt: skip
        try:
            return await source.read()
        finally:
            await source.aclose()

    snaps = asyncio.run(first())
    assert any(s.gpus for s in snaps)
    gpu = [q for n, q in WANTED.items() if section(n) == "gpu" or n == GPU_FB_FREE_ALL]
    others = [q for q in WANTED.values() if q not in gpu]
    assert set(WANTED.values()) <= set(spans)  # and the fallback labels (a Titan V has none)
    answered = sorted(spans[q][1] for q in gpu)
    assert min(spans[q][0] for q in others) >= answered[-2]


def test_a_reading_given_up_while_its_gpu_queries_run_leaves_no_query_behind(
    stack: Stack,  # noqa: F811
) -> None:
    """A first reading cancelled (the app quitting) while its GPU queries are out: they are
    cancelled with it, not left running against Prometheus."""

    async def cancelled() -> set[asyncio.Task[object]]:
        client = PromClient(PromSettings(stack.prometheus.url))
        try:
            reading = asyncio.ensure_future(
                ask_all(
                    client, "instance", WANTED, None, [n for n in WANTED if section(n) == "gpu"]
                )
            )
            await asyncio.sleep(0)  # the GPU queries asked
            reading.cancel()
            with pytest.raises(asyncio.CancelledError):
                await reading
            await asyncio.sleep(0)
            return {
                t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
            }
        finally:
            await client.aclose()

    assert asyncio.run(cancelled()) == set()
