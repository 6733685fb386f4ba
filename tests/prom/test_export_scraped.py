"""`clustertop export` over the loopback SSH fleet, scraped by a real Prometheus: exact values."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustertop.model import MIB
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.fleet.loopback import free_port
from tests.prom.servers import LOOPBACK, Daemon, Prometheus, Target, unavailable
from tests.waiting import wait_for

TOKEN = "s3cret-token-for-the-scraper"


@pytest.fixture
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ctprom-") as name:
        yield Path(name)


def _export(
    fleet: Fleet, root: Path, *hosts: str, extra: tuple[str, ...] = ()
) -> tuple[Daemon, str]:
    port = free_port(LOOPBACK)
    (root / "token").write_text(TOKEN + "\n")
    argv = [sys.executable, "-m", "clustertop", "export", "--listen", f"{LOOPBACK}:{port}"]
    argv += ["--token-file", str(root / "token"), "-F", str(fleet.ssh_config)]
    argv += ["--interval", "0.5", "--timeout", "5", *extra, *hosts]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["XDG_CONFIG_HOME"] = str(root / "xdg")
    daemon = Daemon(argv, root / "export.log")
    with daemon.log.open("ab") as out:
        daemon.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
    return daemon, f"{LOOPBACK}:{port}"


def _status(url: str, token: str | None) -> int:
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_export_scraped_by_prometheus(clean_fleet: Fleet, workdir: Path) -> None:
    if unavailable():
        pytest.skip(str(unavailable()))
    h1 = clean_fleet["h1"]
    engine = h1.docker
    assert engine is not None
    engine.run_container("alice-train", "sleep", "600")
    engine.run_container("bob-idle", "sleep", "600")
    h1.set_gpu_spec(
        spec(
            [
                gpu("h1", 0, H200, **{"utilization.gpu": "37", "temperature.gpu": "61"}),
                gpu("h1", 1, H200, **{"utilization.gpu": "0"}),
            ],
            [
                {"gpu": 0, "container": "alice-train", "used_memory_mib": 4000},
                {"gpu": 1, "container": "bob-idle", "used_memory_mib": 1500},
            ],
        )
    )
    export, address = _export(clean_fleet, workdir, "h1", "refused", extra=("--stale-after", "0"))
    prometheus = Prometheus(workdir, [Target("clustertop", address, bearer_file=workdir / "token")])
    try:
        url = f"http://{address}/metrics"
        wait_for(lambda: _status(url, TOKEN) == 200, 20, 0.1, "the exporter to answer")
        assert _status(url, None) == 401
        assert _status(url, "wrong") == 401
        prometheus.start()
        _check_values(prometheus, engine.container_pid("alice-train"))
    finally:
        prometheus.stop()
        export.stop()
    assert export.process is not None and export.process.returncode == 0


def _check_values(prom: Prometheus, alice_pid: int) -> None:
    wait_for(
        lambda: prom.value('clustertop_host_up{host="h1"}') == 1
        and prom.value('clustertop_gpu_process_memory_bytes{host="h1",gpu="1"}') is not None
        and prom.value('clustertop_container_stale{container="bob-idle"}') == 1,
        30, 0.2, "h1 up with its GPU processes and a stale container in Prometheus",
    )  # fmt: skip
    assert prom.value('clustertop_gpu_utilization_percent{host="h1",gpu="0"}') == 37
    assert prom.value('clustertop_gpu_temperature_celsius{host="h1",gpu="0"}') == 61
    assert prom.value('clustertop_gpu_memory_total_bytes{host="h1",gpu="0"}') == 143771 * MIB
    assert prom.value('clustertop_gpu_power_watts{host="h1",gpu="0"}') == 627.40
    [proc] = prom.query('clustertop_gpu_process_memory_bytes{host="h1",gpu="0"}')
    labels = proc["metric"]
    assert labels["pid"] == str(alice_pid)
    assert (labels["user"], labels["container"], labels["owner"]) == (
        "root",
        "alice-train",
        "alice",
    )
    assert float(proc["value"][1]) == 4000 * MIB
    assert prom.value('clustertop_owner_gpu_memory_bytes{owner="alice"}') == 4000 * MIB
    assert prom.value('clustertop_owner_gpus{owner="bob"}') == 1
    assert prom.value('clustertop_owner_containers_stale{owner="bob"}') == 1
    assert prom.value('clustertop_container_stale{container="alice-train"}') is None
    assert prom.value('clustertop_host_up{host="refused"}') == 0
    [state] = prom.query('clustertop_host_state{host="refused"}')
    assert state["metric"]["state"] == "unreachable"
    assert "refused" in state["metric"]["reason"].lower()
    assert prom.value('up{job="clustertop"}') == 1
