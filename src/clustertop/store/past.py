"""The store's past as model snapshots, so charts (1 h, 24 h, 7 d) show it after a restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from clustertop.model import MIB, Cpu, Gpu, HostSnapshot, HostState, Memory
from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    NetCounters,
)
from clustertop.store.rollup import minutes_done
from clustertop.store.rows import UP_CODE
from clustertop.store.schema import StoreError, connect

# One row per host (and per GPU) and chart bucket `b`; `t` is a time inside the bucket.
_RAW_HOSTS = f"""
SELECT r.host, CAST(r.t / :res AS INTEGER) AS b, n.name, max(r.t), avg(r.cpu), avg(r.mem)
FROM raw_host AS r JOIN hosts AS n ON n.id = r.host
WHERE r.t >= :a AND r.t < :b AND r.state = {UP_CODE} GROUP BY r.host, b
"""
_RAW_GPUS = """
SELECT r.host, CAST(r.t / :res AS INTEGER) AS b, g.idx, g.uuid, avg(r.util),
    total(r.mem) / count(DISTINCT r.t)
FROM raw_gpu AS r JOIN gpus AS g ON g.id = r.gpu
WHERE r.t >= :a AND r.t < :b GROUP BY r.host, b, r.gpu
"""
_MIN_HOSTS = """
SELECT r.host, CAST(r.m * 60 / :res AS INTEGER) AS b, n.name, max(r.m) * 60.0,
    total(r.cpu) / total(r.up), max(r.mem)
FROM min_host AS r JOIN hosts AS n ON n.id = r.host
WHERE r.m >= :ma AND r.m < :mb AND r.up > 0 GROUP BY r.host, b
"""
_MIN_GPUS = """
SELECT g.host, CAST(r.m * 60 / :res AS INTEGER) AS b, g.idx, g.uuid,
    total(r.util) / nullif(total(r.known), 0), total(r.mem) / count(DISTINCT r.m)
FROM min_gpu AS r JOIN gpus AS g ON g.id = r.gpu
WHERE r.m >= :ma AND r.m < :mb GROUP BY g.host, b, r.gpu
"""

_RAW_IO = """
SELECT host, CAST(t / :res AS INTEGER) AS b, avg(rx), avg(tx), avg(rd), avg(wr)
FROM raw_io WHERE t >= :a AND t < :b GROUP BY host, b
"""
_MIN_IO = """
SELECT host, CAST(m * 60 / :res AS INTEGER) AS b, avg(rx), avg(tx), avg(rd), avg(wr)
FROM min_io WHERE m >= :ma AND m < :mb GROUP BY host, b
"""
RECORDED = "(recorded)"
"""Name of the one interface and device a past snapshot has: the host's recorded totals."""
Rates = tuple[float | None, float | None, float | None, float | None]


def store_past(path: Path, now: float, window_s: float, resolution_s: float) -> list[HostSnapshot]:
    """One snapshot per host and bucket of `resolution_s` over the last `window_s`, oldest
    first: minute rows, then raw readings not yet rolled up. [] when nothing can be read."""
    try:
        conn = connect(path, readonly=True)
    except StoreError:
        return []
    try:
        conn.execute("BEGIN")
        start = now - window_s
        split = max(minutes_done(conn) * 60.0, start)
        span = {"res": resolution_s, "ma": int(start // 60), "mb": int(split // 60)}
        older = _snapshots(
            conn.execute(_MIN_HOSTS, span), conn.execute(_MIN_GPUS, span), _io(conn, _MIN_IO, span)
        )
        span = {"res": resolution_s, "a": split, "b": now}
        newer = _snapshots(
            conn.execute(_RAW_HOSTS, span), conn.execute(_RAW_GPUS, span), _io(conn, _RAW_IO, span)
        )
        return sorted([*older, *newer], key=lambda snap: snap.time)
    finally:
        conn.close()


def _io(
    conn: sqlite3.Connection, query: str, span: dict[str, float]
) -> dict[tuple[int, int], Rates]:
    """(host id, bucket) -> its mean (receive, send, read, write) rates."""
    return {(host, bucket): tuple(rates) for host, bucket, *rates in conn.execute(query, span)}


def _recorded(rates: Rates | None) -> dict[str, Any]:
    """A past snapshot's traffic and disk I/O: one stand-in interface and device with the
    host's recorded totals (what the history charts sum from a live snapshot)."""
    if rates is None:
        return {}
    rx, tx, read, write = rates
    interfaces: tuple[Interface, ...] = ()
    if rx is not None or tx is not None:
        counters = NetCounters(RECORDED, 0, 0, 0, 0, 0, 0, 0, 0)
        interfaces = (Interface(counters, InterfaceKind.PHYSICAL, rx, tx),)
    devices: tuple[DiskIo, ...] = ()
    if read is not None or write is not None:
        devices = (DiskIo(DiskCounters(RECORDED, 0, 0, 0, 0, 0), read, write),)
    return {"interfaces": interfaces, "disk_io": devices}


def _snapshots(
    hosts: Iterable[Any], gpu_rows: Iterable[Any], io: dict[tuple[int, int], Rates]
) -> Iterator[HostSnapshot]:
    gpus: dict[tuple[int, int], list[Gpu]] = {}
    for host, bucket, idx, uuid, util, mem in gpu_rows:
        gpu = Gpu(idx, uuid, "", util, int(mem * MIB), None, None, None, None)
        gpus.setdefault((host, bucket), []).append(gpu)
    for host, bucket, name, t, cpu, mem in hosts:
        yield HostSnapshot(
            name=name,
            state=HostState.UP,
            time=t,
            cpu=Cpu(cpu, None, None) if cpu is not None else None,
            memory=Memory(0, int(mem * MIB)) if mem is not None else None,
            gpus=tuple(sorted(gpus.get((host, bucket), ()), key=lambda g: g.index)),
            **_recorded(io.get((host, bucket))),
        )
