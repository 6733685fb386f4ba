"""StoreWriter: writes batches of readings into the store in one transaction each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clustertop.model import Gpu, HostSnapshot
from clustertop.model.mig import MigInstance
from clustertop.store.mig_rows import MigRow, mig_rows
from clustertop.store.rollup import roll_up
from clustertop.store.rows import (
    Thresholds,
    container_states,
    disk_rows,
    gpu_rows,
    host_row,
    in_instances,
    io_row,
)
from clustertop.store.schema import DISK_EVERY_M, connect

ROLLUP_EVERY_S = 60.0
"""Seconds between roll-ups of finished minutes."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One snapshot and what the analysis said of it, as queued for the writer."""

    snap: HostSnapshot
    """The snapshot."""
    interval: float
    """Seconds between this host's readings (what one reading stands for)."""
    stale: tuple[tuple[str, str, float], ...] = ()
    """(container ID, name, idle since) of its stale containers."""
    alerts: tuple[tuple[str, str, str], ...] = ()
    """(key, kind, message) of its active alerts."""


class StoreWriter:
    """Writes readings; keeps interned ids and what it last wrote of each host's events."""

    def __init__(
        self, path: Path, limits: Thresholds | None = None, retention_s: float = 365 * 86400.0
    ) -> None:
        self.conn = connect(path)
        """The store (this writer's own connection)."""
        self.limits = limits or Thresholds()
        """Busy and held-idle thresholds."""
        self.retention_s = retention_s
        """How long hourly rows and events are kept."""
        self._hosts: dict[str, int] = {}
        self._gpus: dict[tuple[int, int, str], int] = {}
        self._holders: dict[tuple[str, str], int] = {}
        self._migs: dict[tuple[object, ...], int] = {}
        self._containers: dict[str, dict[str, tuple[str, str]]] = {}
        self._alerts: dict[str, dict[str, tuple[str, str]]] = {}
        self._disk_minute: dict[str, int] = {}
        self._last_rollup = 0.0

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def write(self, readings: Sequence[Reading]) -> None:
        """All readings in one transaction: a crash loses this batch or nothing."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            host_rows: list[tuple[object, ...]] = []
            gpu_list: list[tuple[object, ...]] = []
            mig_list: list[tuple[object, ...]] = []
            io_list: list[tuple[object, ...]] = []
            for reading in readings:
                rates = io_row(reading.snap)
                if rates is not None:
                    io_list.append((reading.snap.time, self._host_id(reading.snap.name), *rates))
                mig = any(gpu.mig_instances for gpu in reading.snap.gpus)
                placed = in_instances(reading.snap) if mig else {}  # once for both below
                self._collect(reading, host_rows, gpu_list, placed)
                if mig:
                    self._collect_migs(reading, mig_list, placed)
            conn.executemany("INSERT INTO raw_host VALUES (?,?,?,?,?,?,?,?)", host_rows)
            conn.executemany("INSERT INTO raw_gpu VALUES (?,?,?,?,?,?,?)", gpu_list)
            conn.executemany("INSERT INTO raw_mig VALUES (?,?,?,?,?,?,?,?,?)", mig_list)
            conn.executemany("INSERT INTO raw_io VALUES (?,?,?,?,?,?)", io_list)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._forget()  # ids and events written in the rolled-back batch are not there
            raise

    def _forget(self) -> None:
        for cache in (self._hosts, self._gpus, self._holders, self._containers, self._alerts):
            cache.clear()
        self._migs.clear()
        self._disk_minute.clear()

    def maybe_roll_up(self, now: float) -> None:
        """Roll up finished minutes, at most once a minute."""
        if now - self._last_rollup >= ROLLUP_EVERY_S:
            self._last_rollup = now
            roll_up(self.conn, now, self.retention_s)

    def _collect(
        self,
        reading: Reading,
        hosts: list[tuple[object, ...]],
        gpus: list[tuple[object, ...]],
        placed: dict[int, tuple[Gpu, MigInstance]],
    ) -> None:
        snap = reading.snap
        host = self._host_id(snap.name)
        row = host_row(snap)
        t = snap.time
        hosts.append(
            (t, host, row.state, reading.interval, row.cpu, row.mem, row.gutil, row.gknown)
        )
        for g in gpu_rows(snap, self.limits, placed):
            gpus.append(
                (
                    t,
                    host,
                    self._gpu_id(host, g.index, g.uuid),
                    self._holder_id(g.owner, g.container),
                    g.util,
                    g.mem,
                    g.flag,
                )
            )
        if snap.is_up:
            self._events(reading, host)

    def _collect_migs(
        self,
        reading: Reading,
        migs: list[tuple[object, ...]],
        placed: dict[int, tuple[Gpu, MigInstance]],
    ) -> None:
        snap = reading.snap
        host = self._host_id(snap.name)
        for r in mig_rows(snap, self.limits, placed):
            holder = self._holder_id(r.owner, r.container)
            row = (r.util, r.mem, r.total, r.state, r.flag)
            migs.append((snap.time, host, self._mig_id(host, r), holder, *row))

    def _events(self, reading: Reading, host: int) -> None:
        """Container states and alerts when they change; disks every 10 minutes; stale runs."""
        snap, conn, t = reading.snap, self.conn, reading.snap.time
        states = container_states(snap)
        if states:
            before = self._containers.get(snap.name, {})
            changed = [
                (t, host, cid, n, s) for cid, (n, s) in states.items() if before.get(cid) != (n, s)
            ]
            conn.executemany("INSERT INTO containers VALUES (?,?,?,?,?)", changed)
            self._containers[snap.name] = states
        self._alert_events(reading, host)
        minute = int(t // 60)
        slot = minute - minute % DISK_EVERY_M
        if self._disk_minute.get(snap.name) != slot:
            self._disk_minute[snap.name] = slot
            conn.executemany(
                "INSERT OR REPLACE INTO disks VALUES (?,?,?,?,?)",
                [(slot, host, mount, used, total) for mount, used, total in disk_rows(snap)],
            )
        conn.executemany(
            "INSERT INTO stale VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET last = excluded.last",
            [(host, name or cid, since, t) for cid, name, since in reading.stale],
        )

    def _alert_events(self, reading: Reading, host: int) -> None:
        name, t = reading.snap.name, reading.snap.time
        now = {key: (kind, message) for key, kind, message in reading.alerts}
        before = self._alerts.get(name, {})
        if now.keys() == before.keys():
            return
        rows = [(t, host, k, kind, msg, 1) for k, (kind, msg) in now.items() if k not in before]
        rows += [(t, host, k, kind, msg, 0) for k, (kind, msg) in before.items() if k not in now]
        self.conn.executemany("INSERT INTO alerts VALUES (?,?,?,?,?,?)", rows)
        self._alerts[name] = now

    def _host_id(self, name: str) -> int:
        found = self._hosts.get(name)
        if found is None:
            found = self._hosts[name] = self._intern(
                "INSERT OR IGNORE INTO hosts(name) VALUES (?)",
                "SELECT id FROM hosts WHERE name = ?",
                (name,),
            )
        return found

    def _gpu_id(self, host: int, index: int, uuid: str) -> int:
        key = (host, index, uuid)
        found = self._gpus.get(key)
        if found is None:
            found = self._gpus[key] = self._intern(
                "INSERT OR IGNORE INTO gpus(host, idx, uuid) VALUES (?,?,?)",
                "SELECT id FROM gpus WHERE host = ? AND idx = ? AND uuid = ?",
                key,
            )
        return found

    def _holder_id(self, owner: str, container: str) -> int:
        key = (owner, container)
        found = self._holders.get(key)
        if found is None:
            found = self._holders[key] = self._intern(
                "INSERT OR IGNORE INTO holders(owner, container) VALUES (?,?)",
                "SELECT id FROM holders WHERE owner = ? AND container = ?",
                key,
            )
        return found

    def _mig_id(self, host: int, row: MigRow) -> int:
        key = (
            self._gpu_id(host, row.gpu_index, row.gpu_uuid),
            row.gi,
            row.ci,
            row.uuid,
            row.profile,
        )
        found = self._migs.get(key)
        if found is None:
            # UNIQUE treats NULLs as distinct: look IDs up with IS, and insert only when absent.
            select = (
                "SELECT id FROM migs WHERE gpu = ? AND gi IS ? AND ci IS ? AND uuid = ?"
                " AND profile = ?"
            )
            row_id = self.conn.execute(select, key).fetchone()
            if row_id is None:
                self.conn.execute(
                    "INSERT INTO migs(gpu, gi, ci, uuid, profile) VALUES (?,?,?,?,?)", key
                )
                row_id = self.conn.execute(select, key).fetchone()
            found = self._migs[key] = int(row_id[0])
        return found

    def _intern(self, insert: str, select: str, key: tuple[object, ...]) -> int:
        # Another process may add the same name: UNIQUE + OR IGNORE gives both the same id.
        self.conn.execute(insert, key)
        row: tuple[int] = self.conn.execute(select, key).fetchone()
        return row[0]
