"""Exact accounting: known GPU-hours from every tier (raw, minutes, hours) and across restarts."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from clustertop.model import HostState, placeholder
from clustertop.store.recorder import HistoryRecorder
from clustertop.store.report import Report, build_report
from clustertop.store.rollup import roll_up
from clustertop.store.writer import Reading, StoreWriter
from tests.store.crafted import (
    END,
    EXPECTED_DOWN_H,
    EXPECTED_GPU_UTIL,
    EXPECTED_OWNERS,
    EXPECTED_UP_H,
    T0,
    reading,
    write_crafted,
)

YEAR = 365 * 86400.0


def _check(report: Report) -> None:
    owners = {o.owner: (o.held_h, o.busy_h, o.idle_h, o.peak_gpus) for o in report.owners}
    assert owners.keys() == EXPECTED_OWNERS.keys()
    for owner, expected in EXPECTED_OWNERS.items():
        assert owners[owner] == pytest.approx(expected, abs=1e-6), owner
    assert [o.owner for o in report.owners] == ["alice", "bob"]  # most GPU-hours first
    (host,) = report.hosts
    assert host.host == "gpu01"
    assert host.up_h == pytest.approx(EXPECTED_UP_H)
    assert host.down_h == pytest.approx(EXPECTED_DOWN_H)
    assert host.gpu_util == pytest.approx(EXPECTED_GPU_UTIL)
    assert host.cpu == pytest.approx(50.0)


def test_raw_readings_give_exact_gpu_hours(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path)
    _check(build_report(path, T0, END))


def test_minute_and_hour_tiers_give_the_same_hours(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path)
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, END + 600, YEAR)  # every minute and hour rolled, raw kept (under an hour old)
    assert conn.execute("SELECT count(*) FROM min_gpu").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM hour_gpu").fetchone()[0] > 0
    _check(build_report(path, T0, END))
    roll_up(conn, END + 20 * 86400, YEAR)  # raw and minutes pruned: hours alone answer
    assert conn.execute("SELECT count(*) FROM raw_host").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM min_gpu").fetchone()[0] == 0
    conn.close()
    _check(build_report(path, T0, END))


def test_a_span_counts_only_its_part(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path)
    report = build_report(path, T0 + 3600, T0 + 2 * 3600)
    alice = next(o for o in report.owners if o.owner == "alice")
    # Minute rows: the reading at the hour stands for the 10 s before it but lands after it.
    assert alice.held_h == pytest.approx(1.0, abs=11 / 3600)
    assert alice.idle_h == pytest.approx(1.0, abs=11 / 3600)
    assert [o.owner for o in report.owners] == ["alice"]


def test_hosts_filter(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path)
    assert build_report(path, T0, END, ["other"]).owners == []
    _check(build_report(path, T0, END, ["gpu01"]))


def test_continuity_across_a_restart(tmp_path: Path) -> None:
    """A second writer (a restarted clustertop) continues where the first stopped."""
    path = tmp_path / "h.sqlite"
    write_crafted(path, 1, 500)
    write_crafted(path, 501)
    _check(build_report(path, T0, END))


def test_rollup_between_restarts_counts_everything_once(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path, 1, 500)
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, T0 + 500 * 10 + 1, YEAR)  # as the first process would, at its last reading
    conn.close()
    write_crafted(path, 501)
    _check(build_report(path, T0, END))


def test_a_hosts_own_interval_is_what_its_readings_stand_for(tmp_path: Path) -> None:
    """`[hosts."x"] interval = 30`: readings 30 s apart count 30 s each, not 2 x the global 2 s."""
    path = tmp_path / "h.sqlite"
    recorder = HistoryRecorder(
        path,
        interval=2.0,
        interval_for=lambda host: 30.0 if host == "slow" else None,
        clock=lambda: T0,
    )
    for k in range(1, 121):  # one hour
        recorder.offer(dataclasses.replace(reading(1, "slow"), time=T0 + 30 * k))
        recorder.offer(dataclasses.replace(reading(1, "fast"), time=T0 + 30 * k))
    assert recorder.flush()
    recorder.close()
    hosts = {h.host: h.up_h for h in build_report(path, T0, END).hosts}
    assert hosts["slow"] == pytest.approx(1.0)
    # The global 2 s: a gap is never filled in beyond 2 intervals (the first reading: one).
    assert hosts["fast"] == pytest.approx((2 + 119 * 4) / 3600)


def test_connecting_is_neither_up_nor_down(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    writer = StoreWriter(path)
    writer.write([Reading(placeholder("a", HostState.CONNECTING, T0 + 10), 10.0)])
    writer.write([Reading(dataclasses.replace(reading(1, "a"), time=T0 + 20), 10.0)])
    writer.close()
    (host,) = build_report(path, T0, END).hosts
    assert (host.up_h, host.down_h) == (pytest.approx(10 / 3600), 0.0)


def test_two_processes_recording_one_host_count_its_time_once(tmp_path: Path) -> None:
    """Two clustertops watching gpu01, each every 20 s, their readings interleaved."""
    path = tmp_path / "h.sqlite"
    first, second = StoreWriter(path), StoreWriter(path)
    for k in range(1, 1141):
        item = Reading(reading(k), 20.0, ())
        (first if k % 2 else second).write([item])
    first.close()
    second.close()
    report = build_report(path, T0, END)
    # Each reading stands for the 10 s since the other process's; only the very first one,
    # with no reading before it, stands for its own interval (20 s): 10 s more than STEP.
    extra = 10 / 3600
    owners = {o.owner: (o.held_h, o.busy_h, o.idle_h, o.peak_gpus) for o in report.owners}
    assert owners["alice"] == pytest.approx((2.0 + extra, 1.0 + extra, 1.0, 1))
    assert owners["bob"] == pytest.approx((0.5 + extra, 0.5 + extra, 0.0, 1))
    (host,) = report.hosts
    assert (host.up_h, host.down_h) == pytest.approx((3.0 + extra, EXPECTED_DOWN_H))
