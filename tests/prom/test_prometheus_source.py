"""`clustertop --prometheus URL --once --json` against a real Prometheus scraping a real
node_exporter and stand-in dcgm-exporter / cAdvisor replaying real captures: exact values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import MIB
from tests.fleet.loopback import free_port
from tests.parsers._fixtures import read_fixture
from tests.prom.servers import LOOPBACK, OPENSSL, Daemon, Prometheus, StandIn, Target, node_exporter
from tests.prom.servers import unavailable as prometheus_unavailable
from tests.waiting import wait_for

DCGM_A5000 = "prometheus/dcgm-exporter-rtx-a5000-driver550-k8s.prom"
DCGM_OLD = "prometheus/dcgm-exporter-2x-gpu-monitoring-tools-empty-pod-labels-TRIMMED.prom"
DCGM_TITAN = "prometheus/dcgm-exporter-titan-v-x8-sm-clock-TRIMMED.prom"
CADVISOR = "prometheus/cadvisor-kubelet-talos-working-set-cgroupfs-TRIMMED.prom"


@dataclass
class Stack:
    prometheus: Prometheus
    node: Daemon
    dcgm_old: StandIn
    others: list[StandIn]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """k8s-gpu1: node + dcgm (Hostname label); gpu2: node + old dcgm + cAdvisor (instance
    relabelled); dcgm-exporter-lcxpl: in dcgm-exporter only; down1: nothing listening."""
    if prometheus_unavailable():
        pytest.skip(str(prometheus_unavailable()))
    texts = {name: read_fixture(name) for name in (DCGM_A5000, DCGM_OLD, DCGM_TITAN, CADVISOR)}
    with tempfile.TemporaryDirectory(prefix="ctprom-") as name:
        root = Path(name)
        node, node_address = node_exporter(root)
        a5000, old, titan, cadvisor = (StandIn(texts[n]).start() for n in texts)
        targets = [
            Target("node-a", node_address, "k8s-gpu1:9100"),
            Target("node-b", node_address, "gpu2:9100"),
            Target("node-down", f"{LOOPBACK}:{free_port(LOOPBACK)}", "down1:9100"),
            Target("dcgm-a", a5000.address, "k8s-gpu1:9400"),
            Target("dcgm-old", old.address, "gpu2:9400"),
            Target("dcgm-titan", titan.address),
            # The capture's 2021 timestamps are far older than this Prometheus's head block.
            Target("cadvisor", cadvisor.address, "gpu2:8080", honor_timestamps=False),
        ]
        prometheus = Prometheus(root, targets)
        try:
            prometheus.start()
            # irate needs two samples of node_cpu_seconds_total.
            wait_for(
                lambda: prometheus.query('count_over_time(up{job="node-a"}[1m]) >= 3'),
                20, 0.2, "three scrapes of node_exporter",
            )  # fmt: skip
            yield Stack(prometheus, node, old, [a5000, titan, cadvisor])
        finally:
            prometheus.stop()
            node.stop()
            for server in (a5000, old, titan, cadvisor):
                server.stop()


def once(*args: str, timeout: float = 5.0) -> tuple[int, dict[str, Any], str]:
    argv = [sys.executable, "-m", "clustertop", "--once", "--json", "--timeout", str(timeout)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["XDG_CONFIG_HOME"] = tempfile.gettempdir() + "/ct-no-config"
    done = subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    doc = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, doc, done.stderr


def hosts_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in doc["hosts"]}


def _meminfo_total() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def test_hosts_joined_across_exporters_with_exact_values(stack: Stack) -> None:
    code, doc, err = once("--prometheus", stack.prometheus.url)
    assert code == 0, err
    hosts = hosts_of(doc)
    assert list(hosts) == ["dcgm-exporter-lcxpl", "down1", "gpu2", "k8s-gpu1"]

    gpu1 = hosts["k8s-gpu1"]
    assert gpu1["state"] == "up" and gpu1["system_error"] is None
    assert gpu1["memory"]["total"] == _meminfo_total()
    assert 0 <= gpu1["cpu"]["percent"] <= 100 and gpu1["cpu"]["count"] == os.cpu_count()
    [a5000] = gpu1["gpus"]
    assert (a5000["index"], a5000["uuid"]) == (0, "GPU-7ad09335-aadb-19c3-e3a8")
    assert a5000["name"] == "NVIDIA RTX A5000"
    assert a5000["util_percent"] == 0 and a5000["memory_used"] == 21383 * MIB
    root = next(d for d in gpu1["disks"] if d["mount"] == "/")
    vfs = os.statvfs("/")
    assert root["total"] == vfs.f_blocks * vfs.f_frsize

    gpu2 = hosts["gpu2"]
    [old] = gpu2["gpus"]
    assert (old["util_percent"], old["temperature_c"], old["power_w"]) == (44, 55, 302.206)
    assert old["memory_used"] is None  # the capture has no FB_USED
    assert [(c["name"], c["memory_used"]) for c in gpu2["containers"]] == [("alpine", 40415232)]
    assert gpu2["memory"]["total"] == _meminfo_total()

    titan = hosts["dcgm-exporter-lcxpl"]
    assert titan["state"] == "up" and [g["index"] for g in titan["gpus"]] == [0, 1, 2, 3, 4]
    assert titan["system_error"] == "no node_exporter series for this host"
    assert titan["memory"] is None and titan["disks"] == []

    down = hosts["down1"]
    assert down["state"] == "unreachable"
    assert "target node-down down1:9100 down" in down["error"]
    assert "connection refused" in down["error"]


def test_named_hosts_in_order_and_one_unknown(stack: Stack) -> None:
    code, doc, err = once("--prometheus", stack.prometheus.url, "gpu2", "nosuchhost")
    assert code == 0, err
    assert [h["name"] for h in doc["hosts"]] == ["gpu2", "nosuchhost"]
    unknown = hosts_of(doc)["nosuchhost"]
    assert unknown["state"] == "error"
    assert unknown["error"] == "no series for this host in Prometheus"


def test_prometheus_down() -> None:
    url = f"http://{LOOPBACK}:{free_port(LOOPBACK)}"
    code, doc, err = once("--prometheus", url, "gpu1")
    assert code == 0, err
    [host] = doc["hosts"]
    assert host["state"] == "unreachable"
    assert host["error"].startswith(f"Prometheus at {url}: cannot connect")
    code, doc, err = once("--prometheus", url)
    assert code == 1 and doc == {}
    assert err.startswith(f"clustertop: Prometheus at {url}: cannot connect")
    assert "name the hosts to watch them anyway" in err


def test_prometheus_slow_or_answering_errors() -> None:
    slow = StandIn("{}", delay=4.0).start()
    error = StandIn('{"status":"error","errorType":"bad_data","error":"parse error at char 3"}')
    garbage = StandIn("<html>proxy says no</html>")
    servers = [slow, error.start(), garbage.start()]
    try:
        code, doc, _ = once("--prometheus", f"http://{slow.address}", "gpu1", timeout=1.0)
        [host] = doc["hosts"]
        assert code == 0 and host["state"] == "timeout"
        assert host["error"] == f"Prometheus at http://{slow.address}: no answer within 1 s"
        code, doc, _ = once("--prometheus", f"http://{error.address}", "gpu1")
        [host] = doc["hosts"]
        assert host["state"] == "error" and "bad_data: parse error at char 3" in host["error"]
        code, doc, _ = once("--prometheus", f"http://{garbage.address}", "gpu1")
        [host] = doc["hosts"]
        assert host["state"] == "error" and "JSONDecodeError" in host["error"]
    finally:
        for server in servers:
            server.stop()


def test_history_from_range_queries(stack: Stack) -> None:
    from clustertop.sources.prometheus.client import PromSettings
    from clustertop.sources.prometheus.source import PrometheusSource

    source = PrometheusSource(
        PromSettings(stack.prometheus.url), ["k8s-gpu1", "down1"], interval=1, host_label="instance"
    )
    past = list(source.past_snapshots(3600.0, 2.0))
    assert past and all(s.name == "k8s-gpu1" for s in past), "down1 never had data"
    assert [s.time for s in past] == sorted(s.time for s in past)
    last = past[-1]
    assert last.memory is not None and last.memory.total == _meminfo_total()
    assert last.cpu is not None and last.cpu.percent is not None and 0 <= last.cpu.percent <= 100
    [gpu] = last.gpus
    assert (gpu.uuid, gpu.util_percent, gpu.memory_used) == (
        "GPU-7ad09335-aadb-19c3-e3a8", 0, 21383 * MIB)  # fmt: skip


async def test_tui_grid_and_host_screen(stack: Stack, tmp_path: Path) -> None:
    from clustertop.cli.launch import build_app
    from clustertop.config.settings import Config
    from clustertop.sources.prometheus.client import PromSettings
    from clustertop.sources.prometheus.source import PrometheusSource
    from tests.ui.helpers import cell_text, until
    from tests.ui_actions.helpers import SIZE, open_host

    names = ["k8s-gpu1", "down1"]
    source = PrometheusSource(
        PromSettings(stack.prometheus.url), names, interval=0.5, host_label="instance"
    )
    app = build_app(source, Config(interval=0.5, audit_log=tmp_path / "audit.jsonl"))
    assert app.options.runner is None, "no actions on Prometheus hosts"
    assert app.live.analysis is not None
    assert app.live.analysis.history.series("k8s-gpu1", "cpu"), "charts start with the past"
    async with app.run_test(size=SIZE) as pilot:
        table = app.grid.table
        await until(lambda: cell_text(table, "k8s-gpu1", "state") == "up", "k8s-gpu1 up")
        await until(
            lambda: cell_text(table, "down1", "state").startswith("unreachable: target node-down"),
            "down1 unreachable with its scrape error",
        )
        screen = await open_host(app, pilot, "k8s-gpu1")
        await until(lambda: (snap := screen.snapshot()) is not None and snap.gpus, "its GPU")


def test_exporter_gone_leaves_stale_series_out_with_the_reason(stack: Stack) -> None:
    """Last in this module: it stops gpu2's dcgm-exporter for good."""
    stack.dcgm_old.stop()
    wait_for(lambda: stack.prometheus.value('up{job="dcgm-old"}') == 0, 20, 0.2, "dcgm-old down")
    code, doc, err = once("--prometheus", stack.prometheus.url, "gpu2")
    assert code == 0, err
    [gpu2] = doc["hosts"]
    assert gpu2["state"] == "up" and gpu2["gpus"] == [], "no stale GPU readings"
    assert gpu2["gpu_error"].startswith("no NVIDIA GPU found in Prometheus")
    assert "target dcgm-old gpu2:9400 down: " in gpu2["gpu_error"]
    assert gpu2["memory"]["total"] == _meminfo_total()


EMPTY = '{"status":"success","data":{"resultType":"vector","result":[]}}'


def test_bearer_token_and_basic_auth_are_sent(tmp_path: Path) -> None:
    server = StandIn(EMPTY).start()
    (tmp_path / "token").write_text("tok-123\n")
    (tmp_path / "password").write_text("pw\n")
    config = tmp_path / "c.toml"
    try:
        config.write_text(f'prometheus_bearer_token_file = "{tmp_path / "token"}"\n')
        once("--config", str(config), "--prometheus", f"http://{server.address}", "gpu1")
        assert {h.get("Authorization") for h in server.headers} == {"Bearer tok-123"}
        server.headers.clear()
        config.write_text(
            f'prometheus_user = "ann"\nprometheus_password_file = "{tmp_path / "password"}"\n'
        )
        code, doc, err = once(
            "--config", str(config), "--prometheus", f"http://{server.address}", "gpu1"
        )
        assert code == 0, err
        assert {h.get("Authorization") for h in server.headers} == {"Basic YW5uOnB3"}  # ann:pw
        assert hosts_of(doc)["gpu1"]["error"] == "no series for this host in Prometheus"
        code, doc, err = once("--prometheus", f"http://{server.address}")
        assert code == 1 and doc == {}
        assert f"Prometheus at http://{server.address} knows no hosts" in err
    finally:
        server.stop()


def test_tls_verification(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    server = StandIn(EMPTY, tls=(cert, key)).start()
    url = f"https://{server.address}"
    config = tmp_path / "c.toml"
    config.write_text("prometheus_verify_tls = false\n")
    try:
        _, doc, _ = once("--prometheus", url, "gpu1")
        [host] = doc["hosts"]
        assert host["state"] == "error" and "certificate verify failed" in host["error"]
        _, doc, _ = once("--config", str(config), "--prometheus", url, "gpu1")
        assert hosts_of(doc)["gpu1"]["error"] == "no series for this host in Prometheus"
    finally:
        server.stop()
