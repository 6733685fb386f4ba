"""What the store keeps besides GPU rows: container states, alerts raised and cleared, disks."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from clustertop.store.writer import Reading, StoreWriter
from tests.ui.helpers import NOW, host

ALERT = ("key-1", "disk", "/ 95% full")


def _all(path: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_container_states_alerts_and_disks_are_kept_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    writer = StoreWriter(path)
    first = host("a")
    (ctr,) = first.containers
    stopped = dataclasses.replace(
        first, time=NOW + 2, containers=(dataclasses.replace(ctr, state="exited"),)
    )
    writer.write([Reading(first, 2.0, (), (ALERT,))])
    writer.write([Reading(dataclasses.replace(first, time=NOW + 1), 2.0, (), (ALERT,))])
    writer.write([Reading(stopped, 2.0)])
    writer.close()
    assert _all(path, "SELECT t, name, state FROM containers ORDER BY t") == [
        (NOW, ctr.name, "running"),
        (NOW + 2, ctr.name, "exited"),
    ]
    assert _all(path, "SELECT t, key, kind, message, raised FROM alerts ORDER BY t") == [
        (NOW, "key-1", "disk", "/ 95% full", 1),
        (NOW + 2, "key-1", "disk", "/ 95% full", 0),
    ]
    (disk,) = first.disks
    minute = int(NOW // 60)
    assert _all(path, "SELECT mount, m, used, total FROM disks") == [
        ("/", minute - minute % 10, disk.used // 2**20, disk.total // 2**20)
    ]
