"""Accounting over the store: per owner GPU-hours held, busy and held idle; per host up time."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clustertop.store.rollup import hours_done, minutes_done, minutes_into
from clustertop.store.schema import connect

_DS_PER_HOUR = 36_000.0  # the tiers count deciseconds


@dataclass(frozen=True, slots=True)
class OwnerUse:
    """One owner's GPU time over the report's span."""

    owner: str
    """Who (as the owner rule named them)."""
    held_h: float
    """GPU-hours their processes held GPUs."""
    busy_h: float
    """Of those, GPU-hours the GPU was busy (over the idle threshold)."""
    idle_h: float
    """Of those, GPU-hours held idle (enough memory held, GPU at or under the idle threshold)."""
    peak_gpus: int
    """Most GPUs held at once (within one minute; within one hour for hourly rows)."""
    held_instance_h: float = 0.0
    """MIG instance-hours their processes held instances (not in held_h: see README History)."""
    busy_instance_h: float = 0.0
    """Of those, instance-hours with the instance's utilisation known and over the threshold."""
    idle_instance_h: float = 0.0
    """Of those, instance-hours held idle (utilisation known; nvidia-smi reports none)."""


@dataclass(frozen=True, slots=True)
class HostUse:
    """One host over the report's span."""

    host: str
    """Host name as given."""
    up_h: float
    """Hours seen up."""
    down_h: float
    """Hours seen not up (unreachable, timing out, failing)."""
    gpu_util: float | None
    """Mean GPU utilisation while up, percent (None: no GPU reading)."""
    cpu: float | None
    """Mean CPU busy share while up, percent."""


@dataclass(frozen=True, slots=True)
class StaleRun:
    """A container that held idle GPUs long enough to be called stale."""

    host: str
    """Its host."""
    container: str
    """Its name (its ID when it had none)."""
    started: float
    """Unix time its idle run began."""
    last: float
    """Unix time it was last seen stale."""

    @property
    def hours(self) -> float:
        """How long it was idle, hours."""
        return (self.last - self.started) / 3600.0


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `clustertop report` prints."""

    since: float
    """Start of the span, unix time."""
    until: float
    """End of the span, unix time."""
    owners: list[OwnerUse]
    """By GPU-hours held, most first."""
    hosts: list[HostUse]
    """By name."""
    stale: list[StaleRun]
    """Longest first (at most 10)."""
    series: dict[str, list[float]] = field(default_factory=dict)
    """Owner -> mean GPUs held per bucket (for --svg), oldest first."""
    bucket_s: float = 0.0
    """Seconds per series bucket."""


class _Span:
    """Which tier answers which part of [since, until): hours, minutes, then raw readings."""

    def __init__(self, conn: sqlite3.Connection, since: float, until: float) -> None:
        self.md = minutes_done(conn)
        oldest = conn.execute("SELECT min(m) FROM min_host").fetchone()[0]
        start_h = since / 3600.0
        # Where minutes were pruned only hours remain: take the hour the span starts in.
        pruned = oldest is None or since / 60 < oldest
        self.ha = math.floor(start_h) if pruned else math.ceil(start_h)
        self.hb = max(self.ha, min(math.floor(until / 3600.0), hours_done(conn)))
        self.ma, self.mb = math.floor(since / 60), math.ceil(until / 60)
        # Readings not yet rolled up are rolled here, into temporary tables.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS r_host AS SELECT * FROM min_host WHERE 0")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS r_gpu AS SELECT * FROM min_gpu WHERE 0")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS r_mig AS SELECT * FROM min_mig WHERE 0")
        conn.execute("DELETE FROM temp.r_host")
        conn.execute("DELETE FROM temp.r_gpu")
        conn.execute("DELETE FROM temp.r_mig")
        minutes_into(conn, "temp.r", max(self.md, self.ma), self.mb)

    def params(self) -> dict[str, int]:
        """Bounds: hours [ha, hb); minutes [ma, mb) less the hours, as [ma, m1) and [m2, mb)."""
        m1 = max(self.ma, min(self.mb, self.ha * 60))
        m2 = min(self.mb, max(self.ma, self.hb * 60))
        if self.hb <= self.ha:  # no hours: the minutes are one range
            m1 = m2 = self.mb
        return {"ha": self.ha, "hb": self.hb, "ma": self.ma, "mb": self.mb, "m1": m1, "m2": m2}

    def rows(self, kind: str, columns: str, *, hours: bool = True) -> str:
        """A UNION ALL over the tiers of `kind` (gpu or host), each row with its minute `m`."""
        parts = (
            []
            if not hours
            else [f"SELECT h * 60 AS m, {columns} FROM hour_{kind} WHERE h >= :ha AND h < :hb"]
        )
        # Two index ranges around the hours (an OR would scan every minute row in between).
        parts.append(f"SELECT m, {columns} FROM min_{kind} WHERE m >= :ma AND m < :m1")
        parts.append(f"SELECT m, {columns} FROM min_{kind} WHERE m >= :m2 AND m < :mb")
        parts.append(f"SELECT m, {columns} FROM temp.r_{kind} WHERE m >= :ma AND m < :mb")
        return " UNION ALL ".join(parts)


_GPU_COLUMNS = "gpu, holder, held, busy, idle, util, known, mem"
_MIG_COLUMNS = "mig, holder, held, busy, idle"
_HOST_COLUMNS = "host, up, down, cpu, gutil, gknown"


def build_report(
    path: Path, since: float, until: float, hosts: Sequence[str] = (), buckets: int = 0
) -> Report:
    """The report of [since, until) from the store at `path`, for `hosts` (all when empty)."""
    conn = connect(path, readonly=True)
    try:
        conn.execute("BEGIN")  # one consistent view, even while a clustertop writes
        span = _Span(conn, since, until)
        host_ids = _host_filter(conn, hosts)
        series: dict[str, list[float]] = {}
        bucket_m = max(1, math.ceil((until - since) / 60 / buckets)) if buckets else 0
        if buckets:
            series = _series(conn, span, host_ids, bucket_m, buckets)
        report = Report(
            since,
            until,
            _owners(conn, span, host_ids),
            _hosts(conn, span, host_ids),
            _stale(conn, since, until, host_ids),
            series,
            bucket_m * 60.0,
        )
        conn.execute("COMMIT")
        return report
    finally:
        conn.close()


def _host_filter(conn: sqlite3.Connection, hosts: Sequence[str]) -> str:
    """SQL that keeps the GPU ids (`gpu`) or host ids (`host`) of the chosen hosts."""
    if not hosts:
        return ""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS chosen(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.chosen")
    conn.executemany(
        "INSERT OR IGNORE INTO temp.chosen SELECT id FROM hosts WHERE name = ?",
        [(h,) for h in hosts],
    )
    return "chosen"


def _gpu_where(host_ids: str) -> str:
    if not host_ids:
        return ""
    return " AND p.gpu IN (SELECT id FROM gpus WHERE host IN (SELECT id FROM temp.chosen))"


def _mig_where(host_ids: str) -> str:
    if not host_ids:
        return ""
    return (
        " AND p.mig IN (SELECT m.id FROM migs AS m JOIN gpus AS g ON g.id = m.gpu"
        " WHERE g.host IN (SELECT id FROM temp.chosen))"
    )


def _instance_hours(
    conn: sqlite3.Connection, span: _Span, host_ids: str
) -> dict[str, tuple[float, float, float]]:
    """Owner -> (held, busy, held idle) MIG instance-hours."""
    rows = conn.execute(
        f"SELECT o.owner, total(p.held), total(p.busy), total(p.idle)"
        f" FROM ({span.rows('mig', _MIG_COLUMNS)}) AS p JOIN holders AS o ON o.id = p.holder"
        f" WHERE o.owner != ''{_mig_where(host_ids)} GROUP BY o.owner",
        span.params(),
    ).fetchall()
    return {
        owner: (held / _DS_PER_HOUR, busy / _DS_PER_HOUR, idle / _DS_PER_HOUR)
        for owner, held, busy, idle in rows
    }


def _owners(conn: sqlite3.Connection, span: _Span, host_ids: str) -> list[OwnerUse]:
    where = _gpu_where(host_ids)
    totals = conn.execute(
        f"SELECT o.owner, total(p.held), total(p.busy), total(p.idle)"
        f" FROM ({span.rows('gpu', _GPU_COLUMNS)}) AS p JOIN holders AS o ON o.id = p.holder"
        f" WHERE o.owner != ''{where} GROUP BY o.owner",
        span.params(),
    ).fetchall()
    peaks = dict(
        conn.execute(
            f"SELECT owner, max(n) FROM (SELECT p.m, o.owner, count(DISTINCT p.gpu) AS n"
            f" FROM ({span.rows('gpu', _GPU_COLUMNS, hours=False)}) AS p"
            f" JOIN holders AS o ON o.id = p.holder WHERE o.owner != '' AND p.held > 0{where}"
            f" GROUP BY p.m, o.owner) GROUP BY owner",
            span.params(),
        ).fetchall()
    )
    for owner, peak in _hour_peaks(conn, span, host_ids):
        peaks[owner] = max(peaks.get(owner, 0), peak)
    gpu_h = {owner: (held, busy, idle) for owner, held, busy, idle in totals}
    instance_h = _instance_hours(conn, span, host_ids)
    owners: list[OwnerUse] = []
    for owner in gpu_h.keys() | instance_h.keys():
        held, busy, idle = gpu_h.get(owner, (0.0, 0.0, 0.0))
        inst_held, inst_busy, inst_idle = instance_h.get(owner, (0.0, 0.0, 0.0))
        owners.append(
            OwnerUse(
                owner,
                held / _DS_PER_HOUR,
                busy / _DS_PER_HOUR,
                idle / _DS_PER_HOUR,
                int(peaks.get(owner, 0)),
                inst_held,
                inst_busy,
                inst_idle,
            )
        )
    return sorted(owners, key=lambda o: (-o.held_h, -o.held_instance_h, o.owner))


def _hour_peaks(conn: sqlite3.Connection, span: _Span, host_ids: str) -> list[tuple[str, int]]:
    if span.hb <= span.ha:
        return []
    if not host_ids:  # peaks over every host were counted per minute when the hour rolled up
        sql = "SELECT owner, max(peak) FROM hour_peak WHERE h >= :ha AND h < :hb GROUP BY owner"
    else:  # for some hosts: GPUs held at some time in the hour (minutes are gone by now)
        sql = (
            "SELECT owner, max(n) FROM (SELECT p.h, o.owner, count(DISTINCT p.gpu) AS n"
            " FROM hour_gpu AS p JOIN holders AS o ON o.id = p.holder WHERE p.h >= :ha"
            f" AND p.h < :hb AND o.owner != '' AND p.held > 0{_gpu_where(host_ids)}"
            " GROUP BY p.h, o.owner) GROUP BY owner"
        )
    return [(str(o), int(n)) for o, n in conn.execute(sql, span.params()).fetchall()]


def _hosts(conn: sqlite3.Connection, span: _Span, host_ids: str) -> list[HostUse]:
    where = " WHERE p.host IN (SELECT id FROM temp.chosen)" if host_ids else ""
    rows = conn.execute(
        f"SELECT n.name, total(p.up), total(p.down), total(p.cpu), total(p.gutil),"
        f" total(p.gknown) FROM ({span.rows('host', _HOST_COLUMNS)}) AS p"
        f" JOIN hosts AS n ON n.id = p.host{where} GROUP BY n.name ORDER BY n.name",
        span.params(),
    ).fetchall()
    return [
        HostUse(
            name,
            up / _DS_PER_HOUR,
            down / _DS_PER_HOUR,
            gutil / gknown if gknown else None,
            cpu / up if up else None,
        )
        for name, up, down, cpu, gutil, gknown in rows
    ]


def _stale(conn: sqlite3.Connection, since: float, until: float, host_ids: str) -> list[StaleRun]:
    where = " AND s.host IN (SELECT id FROM temp.chosen)" if host_ids else ""
    rows = conn.execute(
        "SELECT n.name, s.container, max(s.started, :a), min(s.last, :b) AS last"
        " FROM stale AS s JOIN hosts AS n ON n.id = s.host"
        f" WHERE s.last >= :a AND s.started < :b{where}"
        " ORDER BY min(s.last, :b) - max(s.started, :a) DESC, n.name LIMIT 10",
        {"a": since, "b": until},
    ).fetchall()
    return [StaleRun(*row) for row in rows]


def _series(
    conn: sqlite3.Connection, span: _Span, host_ids: str, bucket_m: int, buckets: int
) -> dict[str, list[float]]:
    rows = conn.execute(
        f"SELECT o.owner, (p.m - :ma) / :bucket AS b, total(p.held)"
        f" FROM ({span.rows('gpu', _GPU_COLUMNS)}) AS p JOIN holders AS o ON o.id = p.holder"
        f" WHERE o.owner != ''{_gpu_where(host_ids)} GROUP BY o.owner, b",
        {**span.params(), "bucket": bucket_m},
    ).fetchall()
    series: dict[str, list[float]] = {}
    count = math.ceil((span.mb - span.ma) / bucket_m)
    for owner, bucket, held in rows:
        values = series.setdefault(owner, [0.0] * max(count, buckets))
        if 0 <= bucket < len(values):
            values[bucket] = held / 10.0 / (bucket_m * 60.0)
    return series
