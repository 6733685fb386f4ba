"""Faults a real lab has: dockerd and the jump host killed and back, the client SIGKILLed."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fleet.fleet import Fleet
from tests.reliability import record
from tests.ssh.helpers import LiveFleet, probe_processes, probe_temp_dirs
from tests.waiting import async_wait_for, wait_for

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]


async def test_killed_dockerd_marks_only_docker_and_it_returns(clean_fleet: Fleet) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    async with LiveFleet(clean_fleet, ["h1", "h2"]) as live:
        await async_wait_for(
            lambda: "h1" in live.latest and live.latest["h1"].is_up, 20, what="h1 up"
        )
        assert live.latest["h1"].docker_error is None
        started = time.monotonic()
        engine.stop()
        try:
            await async_wait_for(
                lambda: bool(live.latest["h1"].docker_error), 20, what="docker error shown"
            )
            seen_after = time.monotonic() - started
            down = live.latest["h1"]
            assert down.is_up, "the host stays up: only its Docker part failed"
            assert down.gpus and down.memory is not None
            error = down.docker_error or ""
            assert "daemon" in error.lower() or "docker" in error.lower(), error
        finally:
            engine.restart()
        await async_wait_for(lambda: live.latest["h1"].docker_error is None, 30, what="docker back")
        back_after = time.monotonic() - started
        assert live.latest["h2"].is_up and live.latest["h2"].docker_error is None
    record(
        "faults",
        "dockerd-killed",
        f"host stayed up, Docker part said {error!r}, then recovered",
        error_shown_s=round(seen_after, 1),
        recovered_s=round(back_after, 1),
    )


def _via_jump_config(fleet: Fleet, path: Path, names: list[str]) -> Path:
    common = (
        f"  User root\n  IdentityFile {fleet.files.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {fleet.known_hosts}\n  ProxyJump jump\n"
    )
    text = f"Include {fleet.ssh_config}\n"
    for name in names:
        host = fleet[name]
        text += f"Host {name}-via-jump\n  HostName {host.address}\n  Port {host.port}\n{common}"
    path.write_text(text)
    return path


async def test_killed_jump_host_takes_its_hosts_down_and_back(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    jump = clean_fleet.jump
    assert jump is not None
    config = _via_jump_config(clean_fleet, tmp_path / "ssh_config", ["h2", "h3"])
    behind = ["h2-via-jump", "h3-via-jump"]
    live = LiveFleet(clean_fleet, [*behind, "h1"])
    live.source._ssh = type(live.source._ssh)(config_paths=(config,), connect_timeout=5.0)
    async with live:
        await async_wait_for(
            lambda: len(live.latest) == 3 and all(s.is_up for s in live.latest.values()),
            30,
            what="all up, two through the jump host",
        )
        started = time.monotonic()
        jump.stop_sshd()
        try:
            await async_wait_for(
                lambda: all(not live.latest[n].is_up for n in behind), 30, what="both down"
            )
            down_after = time.monotonic() - started
            errors = {n: live.latest[n].error or "" for n in behind}
            assert all(errors.values()), errors
            assert live.latest["h1"].is_up, "a host not behind the jump stays up"
        finally:
            jump.start_sshd()
        await async_wait_for(
            lambda: all(live.latest[n].is_up for n in behind), 40, what="both back"
        )
        back_after = time.monotonic() - started
    record(
        "faults",
        "jump-killed",
        f"{len(behind)} hosts behind it went down ({errors[behind[0]]!r}), then came back",
        down_s=round(down_after, 1),
        back_s=round(back_after, 1),
    )


_CLIENT = """
import asyncio, sys
from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource

def sink(snap):
    if snap.is_up:
        print("UP", flush=True)

source = SshSource(
    [parse_host_spec(sys.argv[2])],
    SshSettings(config_paths=(sys.argv[1],), connect_timeout=5.0),
    interval=0.5,
    session_settings=lambda _: SessionSettings(interval=0.5, deadline=1.0),
)
asyncio.run(source.run(sink))
"""


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready and text in proc.stdout.readline():
            return
        assert proc.poll() is None, "the client ended by itself"
    raise AssertionError(f"no {text!r} from the client within {timeout} s")


async def test_sigkilled_client_leaves_nothing_on_the_host(clean_fleet: Fleet) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    argv = [sys.executable, "-c", _CLIENT, str(clean_fleet.ssh_config), "h3"]
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for_line(client, "UP", 30)
        assert probe_processes(clean_fleet["h3"]), "the probe runs while the client is connected"
        temp_dirs = wait_for(
            lambda: probe_temp_dirs(clean_fleet["h3"]), 10, what="the probe's temp dir"
        )
        killed = time.monotonic()
        client.send_signal(signal.SIGKILL)
        client.wait(10)
    finally:
        if client.poll() is None:
            client.kill()
            client.wait(10)
    await async_wait_for(lambda: not probe_processes(clean_fleet["h3"]), 15, what="probe gone")
    await async_wait_for(lambda: not any(d.exists() for d in temp_dirs), 15, what="temp dir gone")
    gone_after = time.monotonic() - killed
    record(
        "faults",
        "client-killed",
        "probe, samplers and temp dir gone from the host",
        gone_within_s=round(gone_after, 1),
    )
