"""MIG instances in the store: exact instance-hours per owner from every tier, what a row keeps."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clustertop.store.report import Report, build_report
from clustertop.store.rollup import roll_up
from tests.store.crafted import T0
from tests.store.crafted_mig import END, EXPECTED, MIG_UUIDS, write_crafted_mig

YEAR = 365 * 86400.0


def _check(report: Report) -> None:
    owners = {
        o.owner: (
            o.held_h,
            o.busy_h,
            o.idle_h,
            o.peak_gpus,
            o.held_instance_h,
            o.busy_instance_h,
            o.idle_instance_h,
        )
        for o in report.owners
    }
    assert owners.keys() == EXPECTED.keys()
    for owner, expected in EXPECTED.items():
        assert owners[owner] == pytest.approx(expected, abs=1e-6), owner
    assert [o.owner for o in report.owners] == ["carol", "dave"]


def test_raw_readings_give_exact_instance_hours(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted_mig(path)
    _check(build_report(path, T0, END))


def test_minute_and_hour_tiers_give_the_same_instance_hours(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted_mig(path)
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, END + 600, YEAR)
    assert conn.execute("SELECT count(*) FROM min_mig").fetchone()[0] > 0
    assert conn.execute("SELECT count(*) FROM hour_mig").fetchone()[0] > 0
    _check(build_report(path, T0, END))
    roll_up(conn, END + 20 * 86400, YEAR)  # raw and minutes pruned: hours alone answer
    assert conn.execute("SELECT count(*) FROM raw_mig").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM min_mig").fetchone()[0] == 0
    conn.close()
    _check(build_report(path, T0, END))


def test_restart_and_hosts_filter(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted_mig(path, 1, 400)
    conn = sqlite3.connect(path, isolation_level=None)
    roll_up(conn, T0 + 4001, YEAR)
    conn.close()
    write_crafted_mig(path, 401)
    _check(build_report(path, T0, END, ["mig01"]))
    assert build_report(path, T0, END, ["other"]).owners == []


def test_each_instance_is_kept_with_its_ids_profile_memory_and_state(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted_mig(path, 1, 1)
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT g.idx, m.gi, m.ci, m.uuid, m.profile, o.owner, o.container, r.util, r.mem,"
        " r.total, r.state, r.flag FROM raw_mig AS r JOIN migs AS m ON m.id = r.mig"
        " JOIN gpus AS g ON g.id = m.gpu JOIN holders AS o ON o.id = r.holder ORDER BY m.gi"
    ).fetchall()
    # state: 0 busy, 1 free (analysis.mig.UnitState order); flag: 1 busy, 2 held idle, 0 none.
    assert rows == [
        (0, 1, 0, MIG_UUIDS[0], "3g.40gb", "carol", "carol-job", None, 3000, 40192, 0, 0),
        (0, 7, 0, MIG_UUIDS[1], "1g.10gb", "dave", "dave-job", 50.0, 1000, 9856, 0, 1),
        (0, 8, 0, "", "1g.10gb", "", "", None, 0, 9856, 1, 0),
    ]
    # The MIG GPU itself is no one's GPU: its instances' processes are kept per instance.
    held = conn.execute(
        "SELECT g.idx, o.owner FROM raw_gpu AS r JOIN gpus AS g ON g.id = r.gpu"
        " JOIN holders AS o ON o.id = r.holder ORDER BY g.idx"
    ).fetchall()
    assert held == [(0, ""), (1, "carol")]
    conn.close()
