"""Prometheus for the grid, SSH for the host on screen: the loopback fleet beside a real
Prometheus that scrapes a real node_exporter standing in for its hosts."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import HostSnapshot
from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource
from clustertop.sources.prometheus.with_ssh import PrometheusWithSsh
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.source import SshSource
from tests.fleet.fleet import Fleet
from tests.prom.servers import Prometheus, Target, node_exporter, unavailable
from tests.waiting import async_wait_for


async def test_focused_host_over_ssh_others_from_prometheus(clean_fleet: Fleet) -> None:
    if unavailable():
        pytest.skip(str(unavailable()))
    with tempfile.TemporaryDirectory(prefix="ctprom-") as name:
        root = Path(name)
        node, address = node_exporter(root)
        # `refused` is the fleet's ssh alias of a port nothing listens on.
        targets = [Target("node-h1", address, "h1:9100"), Target("node-r", address, "refused:9100")]
        prometheus = Prometheus(root, targets)
        try:
            prometheus.start()
            await _check(clean_fleet, prometheus)
        finally:
            prometheus.stop()
            node.stop()


def _ssh_for(fleet: Fleet, host: str) -> SshSource:
    settings = SshSettings(config_paths=(fleet.ssh_config,), connect_timeout=5.0)
    return SshSource([parse_host_spec(host)], settings, interval=0.5)


async def _check(fleet: Fleet, prometheus: Prometheus) -> None:
    prom = PrometheusSource(
        PromSettings(prometheus.url), ["h1", "refused"], interval=0.5, host_label="instance"
    )
    source = PrometheusWithSsh(prom, lambda host: _ssh_for(fleet, host))
    latest: dict[str, HostSnapshot] = {}
    task = asyncio.create_task(source.run(lambda snap: latest.__setitem__(snap.name, snap)))
    try:
        await async_wait_for(lambda: "h1" in latest and latest["h1"].is_up, 20, what="h1 up")
        assert latest["h1"].gpus == () and latest["h1"].processes == (), "Prometheus alone"
        source.focus("h1")
        await async_wait_for(
            lambda: latest["h1"].gpus and latest["h1"].processes, 20, what="h1 read over SSH"
        )
        assert latest["h1"].hostname is not None and latest["h1"].memory is not None
        assert source.connection_for("h1") is not None, "actions go over that connection"
        source.focus("refused")
        await async_wait_for(
            lambda: (latest["refused"].processes_error or "").startswith(
                "only Prometheus's readings: over SSH unreachable"
            ),
            20,
            what="refused: why there is no more",
        )
        assert latest["refused"].is_up and latest["refused"].memory is not None
        assert source.connection_for("h1") is None, "SSH follows the screen"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await source.aclose()
