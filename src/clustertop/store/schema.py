"""Opening the history store: SQLite in WAL mode, checked to be ours, never overwritten if not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

APPLICATION_ID = 0x434C5450
"""`PRAGMA application_id` of a clustertop history store ('CLTP')."""
FORMAT_VERSION = 3
"""`PRAGMA user_version` of the tables below (1: before MIG instances had tables of their own;
2: before the host's traffic and disk I/O rates were kept)."""
BUSY_TIMEOUT_MS = 10_000
"""How long a write waits for another clustertop process's write to finish."""
RAW_KEEP_S = 3600.0
"""Raw readings (every tick) are kept this long."""
MINUTE_KEEP_S = 14 * 86400.0
"""One-minute rows are kept this long; hourly rows for the retention period."""
DISK_EVERY_M = 10
"""Disk use is kept once per this many minutes (for two weeks; then once an hour)."""
_SQLITE_MAGIC = b"SQLite format 3\x00"

# Times: `t` is unix seconds (REAL) in raw tables; `m` a minute number (unix // 60) and `h` an
# hour number (unix // 3600) in the tiers. Durations in the tiers are deciseconds (integers
# take 1-3 bytes in SQLite, a REAL always 8): 40 hosts x 4 GPUs x 14 days of minutes is the
# bulk of the file, so every byte per row counts.
_TABLES = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hosts(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE gpus(id INTEGER PRIMARY KEY, host INTEGER NOT NULL, idx INTEGER NOT NULL,
    uuid TEXT NOT NULL, UNIQUE(host, idx, uuid));
CREATE TABLE holders(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, container TEXT NOT NULL,
    UNIQUE(owner, container));
CREATE TABLE raw_host(t REAL NOT NULL, host INTEGER NOT NULL, state INTEGER NOT NULL,
    iv REAL NOT NULL, cpu REAL, mem INTEGER, gutil REAL, gknown INTEGER NOT NULL);
CREATE INDEX raw_host_t ON raw_host(t);
CREATE TABLE raw_gpu(t REAL NOT NULL, host INTEGER NOT NULL, gpu INTEGER NOT NULL,
    holder INTEGER NOT NULL, util REAL, mem INTEGER, flag INTEGER NOT NULL);
CREATE INDEX raw_gpu_t ON raw_gpu(t);
CREATE TABLE min_host(host INTEGER NOT NULL, m INTEGER NOT NULL, up INTEGER NOT NULL,
    down INTEGER NOT NULL, cpu INTEGER, mem INTEGER, gutil INTEGER NOT NULL,
    gknown INTEGER NOT NULL, PRIMARY KEY(m, host)) WITHOUT ROWID;
CREATE TABLE min_gpu(m INTEGER NOT NULL, gpu INTEGER NOT NULL, holder INTEGER NOT NULL,
    held INTEGER NOT NULL, busy INTEGER NOT NULL, idle INTEGER NOT NULL,
    util INTEGER NOT NULL, known INTEGER NOT NULL, mem INTEGER NOT NULL,
    PRIMARY KEY(m, gpu, holder)) WITHOUT ROWID;
CREATE TABLE hour_host(host INTEGER NOT NULL, h INTEGER NOT NULL, up INTEGER NOT NULL,
    down INTEGER NOT NULL, cpu INTEGER, mem INTEGER, gutil INTEGER NOT NULL,
    gknown INTEGER NOT NULL, PRIMARY KEY(h, host)) WITHOUT ROWID;
CREATE TABLE hour_gpu(h INTEGER NOT NULL, gpu INTEGER NOT NULL, holder INTEGER NOT NULL,
    held INTEGER NOT NULL, busy INTEGER NOT NULL, idle INTEGER NOT NULL,
    util INTEGER NOT NULL, known INTEGER NOT NULL, mem INTEGER NOT NULL,
    PRIMARY KEY(h, gpu, holder)) WITHOUT ROWID;
CREATE TABLE hour_peak(h INTEGER NOT NULL, owner TEXT NOT NULL, peak INTEGER NOT NULL,
    PRIMARY KEY(h, owner)) WITHOUT ROWID;
CREATE TABLE disks(m INTEGER NOT NULL, host INTEGER NOT NULL, mount TEXT NOT NULL,
    used INTEGER NOT NULL, total INTEGER NOT NULL, PRIMARY KEY(m, host, mount)) WITHOUT ROWID;
CREATE TABLE containers(t REAL NOT NULL, host INTEGER NOT NULL, id TEXT NOT NULL,
    name TEXT NOT NULL, state TEXT NOT NULL);
CREATE INDEX containers_t ON containers(t);
CREATE TABLE alerts(t REAL NOT NULL, host INTEGER NOT NULL, key TEXT NOT NULL,
    kind TEXT NOT NULL, message TEXT NOT NULL, raised INTEGER NOT NULL);
CREATE INDEX alerts_t ON alerts(t);
CREATE TABLE stale(host INTEGER NOT NULL, container TEXT NOT NULL, started REAL NOT NULL,
    last REAL NOT NULL, PRIMARY KEY(host, container, started)) WITHOUT ROWID;
"""
# Format 2 adds MIG instances as units of their own (format 1 files get them on upgrade). A
# MIG GPU's holders are kept per instance here; its row in raw_gpu/min_gpu is then unheld.
# `state` is the instance's state as analysis.mig judges it (busy, free, unknown).
_MIG_TABLES = """
CREATE TABLE migs(id INTEGER PRIMARY KEY, gpu INTEGER NOT NULL, gi INTEGER, ci INTEGER,
    uuid TEXT NOT NULL, profile TEXT NOT NULL, UNIQUE(gpu, gi, ci, uuid, profile));
CREATE TABLE raw_mig(t REAL NOT NULL, host INTEGER NOT NULL, mig INTEGER NOT NULL,
    holder INTEGER NOT NULL, util REAL, mem INTEGER, total INTEGER, state INTEGER NOT NULL,
    flag INTEGER NOT NULL);
CREATE INDEX raw_mig_t ON raw_mig(t);
CREATE TABLE min_mig(m INTEGER NOT NULL, mig INTEGER NOT NULL, holder INTEGER NOT NULL,
    held INTEGER NOT NULL, busy INTEGER NOT NULL, idle INTEGER NOT NULL,
    util INTEGER NOT NULL, known INTEGER NOT NULL, mem INTEGER NOT NULL,
    PRIMARY KEY(m, mig, holder)) WITHOUT ROWID;
CREATE TABLE hour_mig(h INTEGER NOT NULL, mig INTEGER NOT NULL, holder INTEGER NOT NULL,
    held INTEGER NOT NULL, busy INTEGER NOT NULL, idle INTEGER NOT NULL,
    util INTEGER NOT NULL, known INTEGER NOT NULL, mem INTEGER NOT NULL,
    PRIMARY KEY(h, mig, holder)) WITHOUT ROWID;
"""

# Format 3 adds the host's traffic (physical and InfiniBand interfaces) and disk I/O (whole
# devices) in bytes per second: raw per reading, then the minute's and hour's mean, with `n`
# the readings in it (an hour's mean weighs its minutes by their readings).
_IO_TABLES = """
CREATE TABLE raw_io(t REAL NOT NULL, host INTEGER NOT NULL, rx REAL, tx REAL, rd REAL, wr REAL);
CREATE INDEX raw_io_t ON raw_io(t);
CREATE TABLE min_io(m INTEGER NOT NULL, host INTEGER NOT NULL, n INTEGER NOT NULL,
    rx INTEGER, tx INTEGER, rd INTEGER, wr INTEGER, PRIMARY KEY(m, host)) WITHOUT ROWID;
CREATE TABLE hour_io(h INTEGER NOT NULL, host INTEGER NOT NULL, n INTEGER NOT NULL,
    rx INTEGER, tx INTEGER, rd INTEGER, wr INTEGER, PRIMARY KEY(h, host)) WITHOUT ROWID;
"""
_ADDED_BY = {2: _MIG_TABLES, 3: _IO_TABLES}
"""The tables each format added to the one before it (upgrades run them in order)."""


class StoreError(Exception):
    """The history store cannot be used: says which file and why (never overwritten)."""


def _refuse(path: Path, why: str) -> StoreError:
    return StoreError(
        f"history store {path}: {why}; it is left untouched (move it away or set "
        "history_path to another file)"
    )


def _check_header(path: Path) -> bool:
    """True when the file exists with content; raises when that content is not SQLite."""
    try:
        with path.open("rb") as file:
            head = file.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StoreError(f"history store {path}: cannot read: {exc.strerror or exc}") from None
    if not head:
        return False
    if head != _SQLITE_MAGIC:
        raise _refuse(path, "not an SQLite file, so not a clustertop history store")
    return True


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to a checked store; creates it (and its folder) when missing and writable.

    Raises StoreError for a file that is not SQLite, is another program's SQLite file, is
    corrupt, or has a newer format; such a file is never written to.
    """
    exists = _check_header(path)
    if readonly and not exists:
        raise StoreError(f"history store {path}: no such file (nothing recorded yet)")
    if not exists:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"history store {path}: cannot create its folder: {exc}") from None
    mode = "ro" if readonly else ("rw" if exists else "rwc")
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
    except sqlite3.Error as exc:
        raise StoreError(f"history store {path}: cannot open: {exc}") from None
    try:
        _prepare(conn, path, readonly=readonly)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare(conn: sqlite3.Connection, path: Path, *, readonly: bool) -> None:
    try:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id == 0 and not readonly:
            _create(conn, path)
            app_id = APPLICATION_ID
        if app_id != APPLICATION_ID:
            raise _refuse(path, f"an SQLite file of another program (application_id {app_id:#x})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > FORMAT_VERSION:
            raise _refuse(path, f"written by a newer clustertop (format {version})")
        # Reading the schema and the meta row touches the first pages only: a damaged file
        # fails here; a full quick_check would read every page (a second per 150 MB).
        row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if row is None or row[0] != "clustertop history":
            raise _refuse(path, "damaged (its format record is missing)")
        if version < FORMAT_VERSION:
            _older(conn, path, version, readonly=readonly)
        if not readonly:
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode, NORMAL loses nothing when the process dies (only on power loss).
            conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.DatabaseError as exc:
        raise _refuse(path, f"damaged or not a database ({exc})") from None


def _create(conn: sqlite3.Connection, path: Path) -> None:
    """Make the tables in an empty file; a file with someone else's tables is refused."""
    conn.execute("BEGIN IMMEDIATE")  # two processes creating at once: the second sees the first
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id == 0:
            count = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if count:
                raise _refuse(path, "an SQLite file of another program (no clustertop id)")
            _run_script(conn, _TABLES + _MIG_TABLES + _IO_TABLES)
            conn.execute("INSERT INTO meta VALUES ('format', 'clustertop history')")
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _older(conn: sqlite3.Connection, path: Path, version: int, *, readonly: bool) -> None:
    """A store of an older format: upgraded in place, or (read-only) read as if upgraded."""
    if version not in (1, 2):
        raise _refuse(path, f"format {version} is not one this clustertop can upgrade")
    added = "".join(_ADDED_BY[v] for v in range(version + 1, FORMAT_VERSION + 1))
    if readonly:
        # Reading without writing: empty tables in `temp` stand in for the missing ones
        # (unqualified names find temp first), so an older store reads as having none.
        _run_script(conn, _temp_tables(added))
        return
    conn.execute("BEGIN IMMEDIATE")  # another clustertop may be upgrading it right now
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] == version:
            _run_script(conn, added)
            conn.execute(f"PRAGMA user_version={FORMAT_VERSION}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        # The upgrade is one transaction: it failed whole, the file is as it was.
        raise _refuse(
            path, f"format {version} could not be upgraded to format {FORMAT_VERSION} ({exc})"
        ) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _temp_tables(script: str) -> str:
    tables = [s for s in script.split(";") if s.strip().startswith("CREATE TABLE")]
    return ";".join(s.replace("CREATE TABLE", "CREATE TEMP TABLE IF NOT EXISTS", 1) for s in tables)
