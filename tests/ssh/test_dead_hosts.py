"""Dead hosts (packets dropped, refused, a dead jump host) never delay the live ones."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from clustertop.inventory.hosts import parse_host_spec
from clustertop.model import NOT_TRIED, STILL_CONNECTING, HostState
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.session import SessionSettings
from clustertop.sources.ssh.source import SshSource
from tests.fleet.fleet import Fleet
from tests.fleet.sshconfig import HostEntry
from tests.reliability import record
from tests.ssh.dropped import (
    behind_jump,
    dropped_range,
    refused_entries,
    silent_entries,
    write_config,
)
from tests.ssh.helpers import LiveFleet, run_once
from tests.waiting import async_wait_for

pytestmark = pytest.mark.reliability

TIMEOUT = 5.0
SILENT = 60
UNFINISHED = (NOT_TRIED, STILL_CONNECTING)


def test_sixty_silent_hosts_do_not_keep_two_healthy_ones_waiting(
    fleet: Fleet, tmp_path: Path
) -> None:
    with dropped_range(avoid=fleet.base) as base:
        silent = silent_entries(base, SILENT)
        config = write_config(tmp_path / "ssh_config", fleet, silent)
        # A healthy host first and one last: the last queued behind 60 silent ones before.
        hosts = ["h1", *(e.alias for e in silent), "h2"]
        result = run_once(fleet, *hosts, args=["-F", str(config)], timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    for name in ("h1", "h2"):
        assert result.host(name)["state"] == "up", result.host(name)
        assert result.host(name)["gpus"]
    for entry in silent:
        host = result.host(entry.alias)
        assert host["state"] == "timeout", host
        # Timed out, or (started late on a busy machine) cut short by the run's deadline.
        assert f"{TIMEOUT:g} s" in host["error"] or host["error"] in UNFINISHED, host
    assert result.elapsed < TIMEOUT + 20  # generous: the run ends at its deadline, not after
    said = sorted({result.host(e.alias)["error"] for e in silent})
    record(
        "silent",
        "silent-once",
        f"both healthy hosts up; the silent ones said {said}",
        silent=SILENT,
        healthy=2,
        elapsed_s=round(result.elapsed, 1),
    )


async def test_live_source_shows_healthy_hosts_while_sixty_silent_ones_hang(
    fleet: Fleet, tmp_path: Path
) -> None:
    healthy = ("h1", "h2")
    with dropped_range(avoid=fleet.base) as base:
        silent = silent_entries(base, SILENT)
        config = write_config(tmp_path / "ssh_config", fleet, silent)
        names = ["h1", *(e.alias for e in silent), "h2"]
        live = LiveFleet(fleet, names, config=config, connect_timeout=TIMEOUT)
        started = time.time()
        async with live:
            await async_wait_for(
                lambda: all(n in live.latest and live.latest[n].is_up for n in healthy),
                30,
                what="both healthy hosts up",
            )
    ups = sorted(next(s.time for s in live.history[n] if s.is_up) - started for n in healthy)
    # Before, h2 waited for three rounds of 16 silent hosts (15 s and more); now no round at all.
    assert ups[-1] < 2 * TIMEOUT, ups
    record(
        "silent",
        "silent-tui",
        "both healthy hosts up while the silent ones were still being tried",
        silent=SILENT,
        healthy=2,
        first_healthy_s=round(ups[0], 1),
        last_healthy_s=round(ups[-1], 1),
    )


def test_refused_hosts_fail_at_once_and_healthy_ones_are_up(fleet: Fleet, tmp_path: Path) -> None:
    closed = refused_entries(fleet, 30)
    config = write_config(tmp_path / "ssh_config", fleet, closed)
    result = run_once(fleet, *(e.alias for e in closed), "h1", args=["-F", str(config)])
    assert result.returncode == 0, result.stderr
    assert result.host("h1")["state"] == "up"
    for entry in closed:
        host = result.host(entry.alias)
        assert (host["state"], host["error"]) == ("unreachable", "connection refused")
    record(
        "silent",
        "refused",
        "each refused host 'unreachable: connection refused', the healthy one up",
        refused=len(closed),
        elapsed_s=round(result.elapsed, 1),
    )


def test_dead_hosts_behind_a_live_jump_host_do_not_keep_its_live_ones_waiting(
    fleet: Fleet, tmp_path: Path
) -> None:
    with dropped_range(avoid=fleet.base) as base:
        # The jump host's own connect to these hangs: the channel open never answers.
        dead = [
            HostEntry(f"deadvia{i}", f"{base}.{i}", 22, extra=(("ProxyJump", "jump"),))
            for i in range(1, 41)
        ]
        h2 = fleet["h2"]
        live = HostEntry("h2via", h2.address, h2.port, extra=(("ProxyJump", "jump"),))
        config = write_config(tmp_path / "ssh_config", fleet, [*dead, live])
        hosts = [*(e.alias for e in dead), "h1-via-jump", "h2via"]
        result = run_once(fleet, *hosts, args=["-F", str(config)], timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr
    for name in ("h1-via-jump", "h2via"):
        assert result.host(name)["state"] == "up", result.host(name)
    for entry in dead:
        host = result.host(entry.alias)
        assert host["state"] in ("timeout", "unreachable"), host


async def test_hosts_behind_a_dead_jump_host_all_report_its_failure_together(
    fleet: Fleet, tmp_path: Path
) -> None:
    connect_timeout = 3.0
    with dropped_range(avoid=fleet.base) as base:
        jump = HostEntry("deadjump", f"{base}.1", 22)
        via = behind_jump(fleet, "deadjump", 8)
        config = write_config(tmp_path / "ssh_config", fleet, [jump, *via])
        names = [e.alias for e in via]
        live = LiveFleet(fleet, names, config=config, connect_timeout=connect_timeout)
        started = time.time()
        async with live:
            await async_wait_for(
                lambda: all(_failed(live, n) for n in names), 30, what="all 8 hosts failed"
            )
    firsts = {
        n: next(s for s in live.history[n] if s.state is not HostState.CONNECTING) for n in names
    }
    for snap in firsts.values():
        assert snap.state is HostState.TIMEOUT, snap
        assert snap.error is not None and snap.error.startswith("jump host deadjump: "), snap
    times = sorted(snap.time - started for snap in firsts.values())
    # One shared attempt: all fail together, not one after another (3, 6, ... 24 s before).
    assert times[-1] - times[0] < connect_timeout, times
    assert times[-1] < 2 * connect_timeout + 5, times
    record(
        "silent",
        "dead-jump",
        f"all {len(names)} hosts said {firsts[names[0]].error!r} together",
        hosts=len(names),
        connect_timeout_s=connect_timeout,
        failed_s=f"{times[0]:.1f}..{times[-1]:.1f}",
    )


def _failed(live: LiveFleet, name: str) -> bool:
    snap = live.latest.get(name)
    return snap is not None and snap.state not in (HostState.CONNECTING, HostState.UP)


async def test_once_names_hosts_it_never_tried(fleet: Fleet, tmp_path: Path) -> None:
    with dropped_range(avoid=fleet.base) as base:
        silent = silent_entries(base, 4)
        config = write_config(tmp_path / "ssh_config", fleet, silent)
        # One attempt at a time, each 2 s: by the 3 s deadline the last hosts were never tried.
        source = SshSource(
            [parse_host_spec(e.alias) for e in silent],
            SshSettings(config_paths=(config,), connect_timeout=2.0),
            max_handshakes=1,
            max_connects=1,
            session_settings=lambda _: SessionSettings(interval=1.0),
        )
        snaps = await source.collect_once(3.0)
    assert all(s.state is HostState.TIMEOUT for s in snaps), snaps
    errors = [s.error or "" for s in snaps]
    # The first (whichever resolved first) timed out after 2 s; its retry queued behind the
    # hosts never tried, and the last of those were never reached.
    assert sum("within 2 s" in e for e in errors) <= 1, errors
    assert errors.count(NOT_TRIED) >= 1, errors
    assert all("within 2 s" in e or e in UNFINISHED for e in errors), errors
