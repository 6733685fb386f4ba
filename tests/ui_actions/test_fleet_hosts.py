"""Signals, stale clean-up, a user without rights and read-only mode, against the loopback fleet."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clustertop.actions.model import ContainerTarget, ProcessTarget, Verb
from tests.actions.helpers import container_state, container_target, is_running
from tests.fleet import gpu_specs
from tests.fleet.fleet import Fleet
from tests.ui.helpers import cell_text, until
from tests.ui_actions.helpers import (
    audit_entries,
    confirmation,
    fleet_app,
    modal_open,
    open_host,
    show_only,
    stale_now,
    toast_with,
)
from tests.waiting import wait_for

HOG_TAG = "ctmemhog"
"""In the command line of the memory hog, to filter the processes pane down to it."""
# 256 MiB written (so resident): the probe lists the top 25 processes by CPU and by memory.
HOG = f"nohup python3 -c \"tag='{HOG_TAG}'; b=b'x'*(256<<20); import time; time.sleep(600)\""
CTUSER = "h1-ctuser"
"""h1 logged into as ctuser: no docker socket, no rights over root's processes."""


@pytest.fixture
def memhog(fleet: Fleet) -> Iterator[int]:
    """A root process on h1 big enough to be listed; its PID. Killed afterwards."""
    done = fleet["h1"].ssh(f"{HOG} >/dev/null 2>&1 & echo $!")
    assert done.returncode == 0, done.stderr
    pid = int(done.stdout.strip())
    wait_for(lambda: psutil.Process(pid).memory_info().rss > 200 << 20, 20, what="hog resident")
    try:
        yield pid
    finally:
        if is_running(pid):
            psutil.Process(pid).kill()


async def test_sigterm_from_keys_ends_the_process_and_a_changed_start_is_refused(
    fleet: Fleet, memhog: int, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    async with fleet_app(fleet, ["h1"], audit) as (app, pilot):
        screen = await open_host(app, pilot, "h1")
        await show_only(screen, pilot, "4", HOG_TAG)
        shown = screen.selected_target()
        target = ProcessTarget.of("h1", shown)  # type: ignore[arg-type]
        assert target is not None and target.pid == memhog
        # The same PID with another start time: what a reused PID looks like.
        reused = dataclasses.replace(target, start_time=target.start_time - 3600)
        app.actions.confirm(Verb.TERM, [reused])
        await confirmation(app)
        await pilot.press("y")
        await toast_with(app, "SIGTERM: changed", "PID reused", "nothing done")
        assert is_running(memhog)
        await pilot.press("T")
        modal = await confirmation(app)
        text = modal.text()
        assert f"PID {memhog}" in text and HOG_TAG in text and "user      root" in text
        await pilot.press("y")
        await toast_with(app, "SIGTERM: done", f"SIGTERM sent to PID {memhog}")
    wait_for(lambda: not is_running(memhog), 10, what="the hog to end")
    assert [(e["action"], e["outcome"]) for e in audit_entries(audit)] == [
        ("term", "changed"),
        ("term", "done"),
    ]


def _gpu_spec(host: str, idle: str, busy: str | None) -> dict[str, object]:
    gpus = [gpu_specs.gpu(host, 0, gpu_specs.H200, **{"utilization.gpu": "0"})]
    processes = [{"gpu": 0, "container": idle, "used_memory_mib": 4000}]
    if busy:
        gpus.append(gpu_specs.gpu(host, 1, gpu_specs.H200, **{"utilization.gpu": "90"}))
        processes.append({"gpu": 1, "container": busy, "used_memory_mib": 9000})
    return gpu_specs.spec(gpus, processes)


async def test_x_stops_exactly_the_stale_containers_on_the_host_then_the_grid(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    h1, h2 = (clean_fleet[name].docker for name in ("h1", "h2"))
    assert h1 is not None and h2 is not None
    idle, busy, other = (
        h1.run_container("st-idle"),
        h1.run_container("st-busy"),
        h2.run_container("st-other"),
    )
    clean_fleet["h1"].set_gpu_spec(_gpu_spec("h1", "st-idle", "st-busy"))
    clean_fleet["h2"].set_gpu_spec(_gpu_spec("h2", "st-other", None))
    async with fleet_app(clean_fleet, ["h1", "h2"], tmp_path / "a.jsonl", analysis=stale_now()) as (
        app,
        pilot,
    ):

        def stale(host: str) -> frozenset[str]:
            snap = app.live.store.get(host)
            return app.live.stale(snap) if snap else frozenset()

        await until(lambda: stale("h1") == {idle} and stale("h2") == {other}, "stale found")
        screen = await open_host(app, pilot, "h1")
        await pilot.press("3")
        table = screen.current_table
        await until(lambda: cell_text(table, idle, "stale") == "stale", "idle shown stale")
        assert cell_text(table, busy, "stale") == ""
        await pilot.press("X")
        modal = await confirmation(app)
        assert [(t.host, t.id) for t in modal.targets] == [("h1", idle)]
        assert modal.text().startswith("Stop 1 stale container?")
        await pilot.press("y")
        await toast_with(app, "Stop: done", "h1: container st-idle")
        await until(lambda: not stale("h1"), "h1 has nothing stale left")
        await pilot.press("escape")
        await until(lambda: app.screen is app.grid, "the grid")
        await pilot.press("X")
        modal = await confirmation(app)
        assert [(t.host, t.id) for t in modal.targets] == [("h2", other)]
        await pilot.press("y")
        await toast_with(app, "Stop: done", "h2: container st-other")
    assert (container_state(h1, idle), container_state(h2, other)) == ("exited", "exited")
    assert container_state(h1, busy) == "running"


async def test_a_user_without_rights_sees_the_hosts_refusal(
    clean_fleet: Fleet, memhog: int, tmp_path: Path
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    cid = engine.run_container("pd-job")
    async with fleet_app(clean_fleet, [CTUSER], tmp_path / "a.jsonl") as (app, pilot):
        screen = await open_host(app, pilot, CTUSER)
        await show_only(screen, pilot, "4", HOG_TAG)
        await pilot.press("T")
        await confirmation(app)
        await pilot.press("y")
        await toast_with(app, "SIGTERM: failed", f"kill {memhog}: Operation not permitted")
        # ctuser cannot even list containers; the target is what root's view of h1 shows.
        app.actions.confirm(Verb.STOP, [container_target(CTUSER, engine, cid)])
        await confirmation(app)
        await pilot.press("y")
        shown = await toast_with(app, "Stop: failed", "permission denied")
        assert "docker" in shown.lower()
    assert is_running(memhog)
    assert container_state(engine, cid) == "running"


async def test_readonly_fleet_app_never_asks_and_never_acts(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    engine = clean_fleet["h2"].docker
    assert engine is not None
    cid = engine.run_container("ro-job")
    clean_fleet["h2"].set_gpu_spec(_gpu_spec("h2", "ro-job", None))
    audit = tmp_path / "audit.jsonl"
    async with fleet_app(clean_fleet, ["h2"], audit, readonly=True, analysis=stale_now()) as (
        app,
        pilot,
    ):
        await until(lambda: app.actions.stale_containers(["h2"]), "ro-job stale")
        await pilot.press("X")
        assert not modal_open(app)
        screen = await open_host(app, pilot, "h2")
        await show_only(screen, pilot, "3", "ro-job")
        await pilot.press("T", "K", "R", "D", "X", "space", "l")
        await pilot.pause()
        assert app.screen is screen and not modal_open(app)
        assert not screen.marks.keys("containers")
        app.actions.confirm(Verb.STOP, [ContainerTarget.of("h2", screen.selected_target())])  # type: ignore[arg-type]
        assert not modal_open(app), "not even a direct call opens a confirmation"
    assert container_state(engine, cid) == "running"
    assert audit_entries(audit) == []
