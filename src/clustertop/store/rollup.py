"""Downsampling: raw readings into one-minute rows, minutes into hours; old rows pruned."""

from __future__ import annotations

import sqlite3

from clustertop.store.rows import CONNECTING_CODE, FLAG_BUSY, FLAG_IDLE, UP_CODE
from clustertop.store.schema import MINUTE_KEEP_S, RAW_KEEP_S

GRACE_S = 120.0
"""A minute is rolled up this long after it ends (a slow host's readings arrive late)."""

# A reading stands for the time since the host's previous reading (by any process: two
# processes recording one host interleave, and each reading then stands for half as long, so
# nothing counts twice), at most two intervals (a gap is not filled in), and one interval for
# a host's first reading.
_WEIGHTS = """
INSERT INTO temp.w SELECT host, t, state, cpu, gutil, gknown, mem, wt FROM (
    SELECT host, t, state, cpu, gutil, gknown, mem,
        min(t - coalesce(lag(t) OVER (PARTITION BY host ORDER BY t), t - iv), 2 * iv) AS wt
    FROM raw_host WHERE t >= :look AND t < :b)
WHERE t >= :a
"""
_HOSTS = f"""
INSERT INTO {{target}}_host SELECT host, CAST(t / 60 AS INTEGER) AS m,
    round(10 * total(CASE WHEN state = {UP_CODE} THEN wt END)),
    round(10 * total(CASE WHEN state NOT IN ({UP_CODE}, {CONNECTING_CODE}) THEN wt END)),
    round(10 * total(cpu * wt)), max(mem),
    round(10 * total(gutil * gknown * wt)), round(10 * total(gknown * wt))
FROM temp.w GROUP BY m, host
"""
_GPUS = f"""
INSERT INTO {{target}}_gpu SELECT CAST(g.t / 60 AS INTEGER) AS m, g.gpu, g.holder,
    round(10 * total(w.wt)),
    round(10 * total(CASE WHEN g.flag = {FLAG_BUSY} THEN w.wt END)),
    round(10 * total(CASE WHEN g.flag = {FLAG_IDLE} THEN w.wt END)),
    round(10 * total(g.util * w.wt)),
    round(10 * total(CASE WHEN g.util IS NOT NULL THEN w.wt END)), max(coalesce(g.mem, 0))
FROM raw_gpu AS g JOIN temp.w AS w ON w.host = g.host AND w.t = g.t
WHERE g.t >= :a AND g.t < :b GROUP BY m, g.gpu, g.holder
"""
_MIGS = _GPUS.replace("_gpu", "_mig").replace("g.gpu", "g.mig").replace("raw_gpu", "raw_mig")
_TEMP = """
CREATE TEMP TABLE IF NOT EXISTS w(host INTEGER, t REAL, state INTEGER, cpu REAL, gutil REAL,
    gknown INTEGER, mem INTEGER, wt REAL);
CREATE INDEX IF NOT EXISTS temp.w_host_t ON w(host, t);
"""


def _temp(conn: sqlite3.Connection) -> None:
    for statement in _TEMP.split(";"):
        if statement.strip():
            conn.execute(statement)


def minutes_into(conn: sqlite3.Connection, target: str, first_m: int, end_m: int) -> None:
    """Roll raw readings of minutes [first_m, end_m) into `{target}_host` and `{target}_gpu`."""
    _temp(conn)
    conn.execute("DELETE FROM temp.w")
    a, b = first_m * 60.0, end_m * 60.0
    longest = conn.execute(
        "SELECT max(iv) FROM raw_host WHERE t >= ? AND t < ?", (a, b)
    ).fetchone()[0]
    if longest is None:
        return
    conn.execute(_WEIGHTS, {"a": a, "b": b, "look": a - 2 * longest})
    conn.execute(_HOSTS.format(target=target))
    conn.execute(_GPUS.format(target=target), {"a": a, "b": b})
    conn.execute(_MIGS.format(target=target), {"a": a, "b": b})


def _meta_int(conn: sqlite3.Connection, key: str) -> int | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row is not None else None


def _set_meta(conn: sqlite3.Connection, key: str, value: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))


def minutes_done(conn: sqlite3.Connection) -> int:
    """Minutes before this one are in the minute tier (raw rows from it on are not yet)."""
    done = _meta_int(conn, "minutes_done")
    if done is not None:
        return done
    first = conn.execute("SELECT min(t) FROM raw_host").fetchone()[0]
    return int(first // 60) if first is not None else 0


def hours_done(conn: sqlite3.Connection) -> int:
    """Hours before this one are in the hour tier."""
    done = _meta_int(conn, "hours_done")
    return done if done is not None else minutes_done(conn) // 60


def roll_up(conn: sqlite3.Connection, now: float, retention_s: float) -> None:
    """Roll finished minutes and hours up and prune old rows, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")  # the watermarks are read and moved by one process at once
    try:
        end_m = int((now - GRACE_S) // 60)
        first_m = minutes_done(conn)
        if _meta_int(conn, "hours_done") is None:  # the first roll-up: hours start with minutes
            _set_meta(conn, "hours_done", first_m // 60)
        if end_m > first_m:
            minutes_into(conn, "min", first_m, end_m)
            _io_minutes(conn, first_m, end_m)
            _set_meta(conn, "minutes_done", end_m)
        first_h = hours_done(conn)
        end_h = max(end_m, first_m) // 60
        if end_h > first_h:
            _hours(conn, first_h, end_h)
            _set_meta(conn, "hours_done", end_h)
            _prune_tiers(conn, now, retention_s)  # once an hour is enough for them
        _prune_raw(conn, now)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _io_minutes(conn: sqlite3.Connection, first_m: int, end_m: int) -> None:
    """Each minute's mean traffic and disk I/O rates per host (avg skips unknown rates)."""
    conn.execute(
        "INSERT INTO min_io SELECT CAST(t / 60 AS INTEGER) AS m, host, count(*), round(avg(rx)),"
        " round(avg(tx)), round(avg(rd)), round(avg(wr)) FROM raw_io WHERE t >= ? AND t < ?"
        " GROUP BY m, host",
        (first_m * 60.0, end_m * 60.0),
    )


def _hours(conn: sqlite3.Connection, first_h: int, end_h: int) -> None:
    span = {"a": first_h * 60, "b": end_h * 60}
    means = ", ".join(
        f"round(total({c} * n) / nullif(total(CASE WHEN {c} IS NOT NULL THEN n END), 0))"
        for c in ("rx", "tx", "rd", "wr")
    )
    conn.execute(
        f"INSERT INTO hour_io SELECT m / 60 AS h, host, sum(n), {means} FROM min_io"
        " WHERE m >= :a AND m < :b GROUP BY h, host",
        span,
    )
    conn.execute(
        "INSERT INTO hour_host SELECT host, m / 60 AS h, sum(up), sum(down), sum(cpu), max(mem),"
        " sum(gutil), sum(gknown) FROM min_host WHERE m >= :a AND m < :b GROUP BY h, host",
        span,
    )
    conn.execute(
        "INSERT INTO hour_gpu SELECT m / 60 AS h, gpu, holder, sum(held), sum(busy), sum(idle),"
        " sum(util), sum(known), max(mem) FROM min_gpu WHERE m >= :a AND m < :b"
        " GROUP BY h, gpu, holder",
        span,
    )
    conn.execute(
        "INSERT INTO hour_mig SELECT m / 60 AS h, mig, holder, sum(held), sum(busy), sum(idle),"
        " sum(util), sum(known), max(mem) FROM min_mig WHERE m >= :a AND m < :b"
        " GROUP BY h, mig, holder",
        span,
    )
    conn.execute(
        "INSERT INTO hour_peak SELECT m / 60 AS h, owner, max(n) FROM (SELECT g.m, o.owner,"
        " count(DISTINCT g.gpu) AS n FROM min_gpu AS g JOIN holders AS o ON o.id = g.holder"
        " WHERE g.m >= :a AND g.m < :b AND o.owner != '' AND g.held > 0 GROUP BY g.m, o.owner)"
        " GROUP BY h, owner",
        span,
    )


def _prune_raw(conn: sqlite3.Connection, now: float) -> None:
    raw_before = min(now - RAW_KEEP_S, minutes_done(conn) * 60.0)
    conn.execute("DELETE FROM raw_host WHERE t < ?", (raw_before,))
    conn.execute("DELETE FROM raw_gpu WHERE t < ?", (raw_before,))
    conn.execute("DELETE FROM raw_mig WHERE t < ?", (raw_before,))
    conn.execute("DELETE FROM raw_io WHERE t < ?", (raw_before,))


def _prune_tiers(conn: sqlite3.Connection, now: float, retention_s: float) -> None:
    minute_before = int(min(now - MINUTE_KEEP_S, hours_done(conn) * 3600.0) // 60)
    conn.execute("DELETE FROM min_host WHERE m < ?", (minute_before,))
    conn.execute("DELETE FROM min_gpu WHERE m < ?", (minute_before,))
    conn.execute("DELETE FROM min_mig WHERE m < ?", (minute_before,))
    conn.execute("DELETE FROM min_io WHERE m < ?", (minute_before,))
    # Disk use: one reading every 10 minutes for two weeks, then one an hour.
    conn.execute("DELETE FROM disks WHERE m < ? AND m % 60 != 0", (minute_before,))
    old = now - retention_s
    conn.execute("DELETE FROM hour_host WHERE h < ?", (int(old // 3600),))
    conn.execute("DELETE FROM hour_gpu WHERE h < ?", (int(old // 3600),))
    conn.execute("DELETE FROM hour_mig WHERE h < ?", (int(old // 3600),))
    conn.execute("DELETE FROM hour_peak WHERE h < ?", (int(old // 3600),))
    conn.execute("DELETE FROM hour_io WHERE h < ?", (int(old // 3600),))
    conn.execute("DELETE FROM disks WHERE m < ?", (int(old // 60),))
    conn.execute("DELETE FROM containers WHERE t < ?", (old,))
    conn.execute("DELETE FROM alerts WHERE t < ?", (old,))
    conn.execute("DELETE FROM stale WHERE last < ?", (old,))
