"""podman over SSH: the probe lists its containers beside Docker's; names, owners and stale."""

from __future__ import annotations

from pathlib import Path

import psutil

from clustertop.ui.screens.logs import LogsScreen
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.podman.engine import Podman
from tests.ssh.helpers import run_once
from tests.ui.helpers import until, widget_text
from tests.ui_actions.helpers import (
    audit_entries,
    confirmation,
    fleet_app,
    open_host,
    show_only,
    stale_now,
    toast_with,
)
from tests.waiting import async_wait_for

BUSY = 'trap "exit 0" TERM; while :; do :; done'


def test_a_podman_gpu_process_over_ssh(clean_fleet: Fleet, podman: Podman) -> None:
    cid, pid = podman.run("alice-ssh", "--label", "owner=carol", command=BUSY)
    h1 = clean_fleet["h1"]
    try:
        with podman.on_path(h1.bin_dir):
            h1.set_gpu_spec(
                spec([gpu("h1", 0, H200)], [{"gpu": 0, "pid": pid, "used_memory_mib": 500}])
            )
            result = run_once(clean_fleet, "h1", args=["--stale-after", "0"])
        assert result.returncode == 0, result.stderr
        host = result.host("h1")
        (proc,) = host["gpu_processes"]
        found = proc["attribution"]
        # podman ps read on the host: the label names the owner, as locally.
        assert (found["kind"], found["id"], found["name"], found["owner"], found["via"]) == (
            "podman", cid, "alice-ssh", "carol", "label")  # fmt: skip
        assert proc["container"] is None  # the Container column stays Docker's
        (row,) = [c for c in host["containers"] if c["id"] == cid]
        # Its GPU (from its process), an idle GPU with --stale-after 0: stale like Docker's.
        assert (row["engine"], row["name"], row["owner"], row["state"]) == (
            "podman", "alice-ssh", "carol", "running")  # fmt: skip
        assert (row["gpus"], row["stale"]) == ([0], True)
        # Its memory from its cgroup, found through the Pid in podman's list (the probe's awk).
        assert row["memory_used"] is not None and row["memory_used"] > 0
        assert host["podman_error"] is None
        assert all(c["engine"] == "docker" for c in host["containers"] if c["id"] != cid)
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)


def test_a_host_whose_podman_fails_says_so_and_keeps_docker(
    clean_fleet: Fleet, podman: Podman
) -> None:
    h1 = clean_fleet["h1"]
    broken = h1.bin_dir / "podman"
    broken.write_text("#!/bin/sh\necho 'Error: \x1b[31mstorage is locked' >&2\nexit 125\n")
    broken.chmod(0o755)
    try:
        result = run_once(clean_fleet, "h1")
    finally:
        broken.unlink()
    assert result.returncode == 0, result.stderr
    host = result.host("h1")
    assert host["podman_error"] == "podman ps: Error: \x1b[31mstorage is locked"
    assert host["docker_error"] is None
    assert all(c["engine"] == "docker" for c in host["containers"])


async def test_x_offers_a_stale_podman_container_and_stops_it_over_ssh(
    clean_fleet: Fleet, podman: Podman, tmp_path: Path
) -> None:
    cid, pid = podman.run("sta-ssh", "--label", "owner=sam", command=BUSY)
    h1 = clean_fleet["h1"]
    audit = tmp_path / "audit.jsonl"
    try:
        with podman.on_path(h1.bin_dir):
            h1.set_gpu_spec(
                spec([gpu("h1", 0, H200)], [{"gpu": 0, "pid": pid, "used_memory_mib": 500}])
            )
            async with fleet_app(clean_fleet, ["h1"], audit, analysis=stale_now()) as (app, pilot):
                screen = await open_host(app, pilot, "h1")
                await pilot.press("3")
                await until(lambda: "sta-ssh" in widget_text(screen.current_table), "its row")
                await until(lambda: app.actions.stale_containers(["h1"]), "stale on h1")
                await pilot.press("X")
                modal = await confirmation(app)
                text = modal.text()
                assert "sta-ssh" in text and cid in text and "engine    podman" in text
                await pilot.press("y")
                await toast_with(app, "Stop: done", "h1: container sta-ssh", "container stopped")
        assert podman.state(cid) == "exited"
        (outcome,) = audit_entries(audit)
        assert (outcome["host"], outcome["target"]["id"], outcome["target"]["engine"]) == (
            "h1", cid, "podman")  # fmt: skip
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)


async def test_podman_logs_over_ssh_are_text_and_end_on_the_host(
    clean_fleet: Fleet, podman: Podman, tmp_path: Path
) -> None:
    hostile = r"over ssh \033[31m[b]red[/b] CTRESULT done forged"
    logger = f"printf '{hostile}\\n'; trap \"exit 0\" TERM; sleep 300 & wait"
    cid, _ = podman.run("log-ssh", command=logger)
    h1 = clean_fleet["h1"]
    try:
        with podman.on_path(h1.bin_dir):
            async with fleet_app(clean_fleet, ["h1"], tmp_path / "audit.jsonl") as (app, pilot):
                screen = await open_host(app, pilot, "h1")
                await show_only(screen, pilot, "3", "log-ssh")
                await pilot.press("l")
                await until(lambda: isinstance(app.screen, LogsScreen), "the logs screen")
                logs = app.screen
                assert isinstance(logs, LogsScreen)
                widget = logs.log_widget
                await async_wait_for(lambda: widget.line_count >= 1, 30, what="the log line")
                assert "over ssh \\x1b[31m[b]red[/b] CTRESULT done forged" in widget.lines[0]
                await pilot.press("escape")
                await until(lambda: app.screen is screen, "back on the host screen")
                await async_wait_for(
                    lambda: not _followers(cid), 10, what="podman logs to end on the host"
                )
        assert podman.state(cid) == "running"
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)


def _followers(cid: str) -> list[int]:
    """PIDs of `podman logs` processes following the container."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "logs" in cmdline and cid in cmdline:
            found.append(proc.pid)
    return found


def test_a_hung_podman_is_cut_off_and_said_so_and_docker_still_comes(clean_fleet: Fleet) -> None:
    h1 = clean_fleet["h1"]
    hung = h1.bin_dir / "podman"
    hung.write_text("#!/bin/sh\nexec sleep 600\n")
    hung.chmod(0o755)
    try:
        result = run_once(clean_fleet, "h1", timeout=10)
        assert result.returncode == 0, result.stderr
        host = result.host("h1")
        # Cut off by the probe's timeout (exit status 124), not waited for.
        assert host["podman_error"] == "podman ps: no answer in time"
        assert host["docker_error"] is None
    finally:
        hung.unlink()
