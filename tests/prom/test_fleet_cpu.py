"""A large fleet's readings ask for the idle and iowait CPU seconds alone (not every mode of
every CPU): each row's CPU equals a full reading's, and the open host keeps its user, system
and iowait shares. Against a real Prometheus holding exact counters (promtool backfill: every
CPU spends one second per second across node_exporter's eight modes, steal included)."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from clustertop.model import HostSnapshot
from clustertop.sources.prometheus import client as prom_client
from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.fleet import detail_queries, fleet_queries
from clustertop.sources.prometheus.source import PrometheusSource
from clustertop.ui.widgets.host_header import _resources
from tests.prom.servers import PROMTOOL, Prometheus, unavailable
from tests.prom.test_fleet_reading import as_fleet  # noqa: F401 - the fixture

STEP = 15
POINTS = 12
END = 1_700_000_000
MODES = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
# Each host's per-CPU share of every mode (summing to 1): busy, idle, and a VM losing time to
# steal (counted busy, as a full reading counts it).
HOSTS = {
    "n1": (4, (0.30, 0.05, 0.10, 0.40, 0.10, 0.0, 0.05, 0.0)),
    "n2": (2, (0.0, 0.0, 0.05, 0.95, 0.0, 0.0, 0.0, 0.0)),
    "n3": (8, (0.40, 0.0, 0.15, 0.20, 0.0, 0.05, 0.0, 0.20)),
}


def _openmetrics() -> Iterator[str]:
    times = [END - STEP * (POINTS - 1 - p) for p in range(POINTS)]
    for host in HOSTS:
        for at in times:
            yield f'up{{job="node",instance="{host}:9100"}} 1 {at}\n'
    for host, (cpus, shares) in HOSTS.items():
        for cpu in range(cpus):
            for mode, share in zip(MODES, shares, strict=True):
                labels = f'cpu="{cpu}",instance="{host}:9100",job="node",mode="{mode}"'
                for p, at in enumerate(times):
                    yield f"node_cpu_seconds_total{{{labels}}} {1000 + share * STEP * p} {at}\n"
    yield "# EOF\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    why = unavailable()
    if why:
        pytest.skip(why)
    root = tmp_path_factory.mktemp("prom-fleet-cpu")
    (root / "data.om").write_text("".join(_openmetrics()))
    (root / "data").mkdir()
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(root / "data.om"),
         str(root / "data")],
        check=True,
    )  # fmt: skip
    server = Prometheus(root, [])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def at_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every instant query asked at the backfill's last point (as a site's `now`)."""
    get = prom_client.PromClient.get

    async def pinned(self: Any, path: str, params: Any = None, *args: Any, **kw: Any) -> Any:
        if path == "/api/v1/query":
            params = {**(params or {}), "time": str(END)}
        return await get(self, path, params, *args, **kw)

    monkeypatch.setattr(prom_client.PromClient, "get", pinned)


async def _readings(url: str, focus: str | None) -> tuple[list[HostSnapshot], list[HostSnapshot]]:
    full_source, fleet_source = (
        PrometheusSource(PromSettings(url), list(HOSTS), interval=1.0, host_label="instance")
        for _ in range(2)
    )
    fleet_source.focus(focus)
    try:
        return await full_source.read(full=True), await fleet_source.read()
    finally:
        await full_source.aclose()
        await fleet_source.aclose()


@pytest.mark.usefixtures("as_fleet", "at_end")
def test_each_rows_cpu_equals_a_full_readings(prometheus: Prometheus) -> None:
    full, fleet = asyncio.run(_readings(prometheus.url, None))
    assert [s.name for s in fleet] == list(HOSTS)
    for was, now in zip(full, fleet, strict=True):
        assert was.cpu is not None and now.cpu is not None, now
        cpus, shares = HOSTS[now.name]
        busy = 100.0 * (1 - shares[MODES.index("idle")] - shares[MODES.index("iowait")])
        assert was.cpu.percent == pytest.approx(busy)
        assert now.cpu.percent == pytest.approx(was.cpu.percent), now.name
        assert now.cpu.count == was.cpu.count == cpus
        # The split is the open host's alone; the header then says what it has.
        assert (now.cpu.user_percent, now.cpu.system_percent, now.cpu.iowait_percent) == (
            None, None, None)  # fmt: skip
        assert _resources(now).plain.startswith(f"CPU {busy:.0f}% ({cpus} cores)")
        assert now.system_error is None


@pytest.mark.usefixtures("as_fleet", "at_end")
def test_the_open_host_has_its_cpu_modes(prometheus: Prometheus) -> None:
    full, fleet = asyncio.run(_readings(prometheus.url, "n1"))
    by_name = {s.name: s for s in full}
    [n1] = [s for s in fleet if s.name == "n1"]
    assert n1.cpu == by_name["n1"].cpu
    assert n1.cpu is not None and n1.cpu.iowait_percent == pytest.approx(10.0)
    assert _resources(n1).plain.startswith("CPU 50% (user 35%, sys 15%, iowait 10%, 4 cores)")
    assert all(s.cpu is not None and s.cpu.user_percent is None for s in fleet if s.name != "n1")


def test_a_fleet_reading_selects_two_cpu_modes_and_the_open_host_every_mode(
    prometheus: Prometheus,
) -> None:
    """What the queries select, asked of the real Prometheus at the backfill's time."""
    at = f" @ {END}"
    idle = fleet_queries("instance")["cpu_idle"].replace("[5m]", f"[5m]{at}")
    picked = prometheus.query(f"count({idle.replace('sum without (cpu, mode) ', '')})")
    assert int(picked[0]["value"][1]) == sum(cpus for cpus, _ in HOSTS.values()) * 2
    modes = detail_queries("instance", "n1")["cpu_modes"].replace("[5m]", f"[5m]{at}")
    assert sorted(r["metric"]["mode"] for r in prometheus.query(modes)) == sorted(MODES)
    assert {r["metric"]["instance"] for r in prometheus.query(modes)} == {"n1:9100"}


def test_the_open_hosts_name_selects_only_its_own_cpu(prometheus: Prometheus) -> None:
    for name in ("n", "n1|n2", 'n1"} or vector(1) or {x="'):
        modes = detail_queries("instance", name)["cpu_modes"].replace("[5m]", f"[5m] @ {END}")
        assert prometheus.query(modes) == [], name
