"""The Prometheus source against VictoriaMetrics (same HTTP API): the same hosts and values."""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path

import pytest

from clustertop.model import MIB, HostSnapshot
from clustertop.sources.prometheus import source as prom_source
from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource
from tests.fleet.loopback import free_port
from tests.parsers._fixtures import read_fixture
from tests.prom.servers import LOOPBACK, VICTORIA, StandIn, Target, VictoriaMetrics, node_exporter
from tests.prom.test_prometheus_source import DCGM_A5000, _meminfo_total, hosts_of, once
from tests.waiting import wait_for


def test_victoriametrics_hosts_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    if not Path(VICTORIA).is_file():
        pytest.skip("victoria-metrics missing (Debian victoria-metrics)")
    dcgm = StandIn(read_fixture(DCGM_A5000)).start()
    with tempfile.TemporaryDirectory(prefix="ctvm-") as name:
        root = Path(name)
        node, address = node_exporter(root)
        targets = [
            Target("node-a", address, "k8s-gpu1:9100"),
            Target("node-down", f"{LOOPBACK}:{free_port(LOOPBACK)}", "down1:9100"),
            Target("dcgm-a", dcgm.address, "k8s-gpu1:9400"),
        ]
        vm = VictoriaMetrics(root, targets)
        try:
            vm.start()
            wait_for(
                lambda: vm.query('count_over_time(up{job="node-a"}[1m]) >= 3'),
                30, 0.2, "three scrapes of node_exporter",
            )  # fmt: skip
            code, doc, err = once("--prometheus", vm.url)
            monkeypatch.setattr(prom_source, "FLEET_MIN_HOSTS", 0)
            sweep, hot = asyncio.run(_sweep_then_hot(vm.url))
        finally:
            vm.stop()
            node.stop()
            dcgm.stop()
    assert code == 0, err
    hosts = hosts_of(doc)
    assert list(hosts) == ["down1", "k8s-gpu1"]
    gpu1 = hosts["k8s-gpu1"]
    assert gpu1["state"] == "up" and gpu1["memory"]["total"] == _meminfo_total()
    assert 0 <= gpu1["cpu"]["percent"] <= 100
    [a5000] = gpu1["gpus"]
    assert (a5000["name"], a5000["memory_used"]) == ("NVIDIA RTX A5000", 21383 * MIB)
    down = hosts["down1"]
    assert down["state"] == "unreachable" and "target node-down down1:9100 down" in down["error"]
    # A large fleet's hot reading (merged queries, `by (__name__, ...)`) as VictoriaMetrics
    # answers it: the row in view as the sweep read it, and the host down.
    assert [s.name for s in hot] == ["down1", "k8s-gpu1"]
    was, now = sweep[1], hot[1]
    assert now.gpus == was.gpus and now.gpus[0].memory_used == 21383 * MIB
    assert [d.mount for d in now.disks] == [d.mount for d in was.disks] and now.disks
    assert now.memory is not None and now.memory.total == _meminfo_total()
    assert (now.system_error, now.gpu_error, now.disks_error) == (None, None, None)
    # The busy share from the idle and iowait seconds alone (promql.CPU_IDLE), in both.
    for snap in (was, now):
        assert snap.cpu is not None and snap.cpu.count == _cpus(), snap.cpu
        assert 0 <= snap.cpu.percent <= 100 and snap.cpu.user_percent is None


def _cpus() -> int:
    """The CPUs node_exporter counts: /proc/stat's per-CPU lines."""
    return len(re.findall(r"^cpu[0-9]+ ", Path("/proc/stat").read_text(), re.M))


async def _sweep_then_hot(url: str) -> tuple[list[HostSnapshot], list[HostSnapshot]]:
    source = PrometheusSource(
        PromSettings(url), ["down1", "k8s-gpu1"], interval=1.0, host_label="instance"
    )
    source.view(["k8s-gpu1"])
    try:
        return await source.read(), await source.read()
    finally:
        await source.aclose()
