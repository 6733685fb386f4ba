"""The store's last hour as model snapshots, so charts show the past after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from clustertop.model import MIB, Cpu, Gpu, HostSnapshot, HostState, Memory
from clustertop.store.rows import UP_CODE
from clustertop.store.schema import StoreError, connect

_HOSTS = f"""
SELECT n.name, r.host, CAST(r.t / :res AS INTEGER) AS b, max(r.t), avg(r.cpu), avg(r.mem)
FROM raw_host AS r JOIN hosts AS n ON n.id = r.host
WHERE r.t >= :a AND r.t < :b AND r.state = {UP_CODE} GROUP BY r.host, b ORDER BY b, n.name
"""
_GPUS = """
SELECT r.host, CAST(r.t / :res AS INTEGER) AS b, g.idx, g.uuid, avg(r.util),
    total(r.mem) / count(DISTINCT r.t)
FROM raw_gpu AS r JOIN gpus AS g ON g.id = r.gpu
WHERE r.t >= :a AND r.t < :b GROUP BY r.host, b, r.gpu ORDER BY g.idx
"""


def store_past(path: Path, now: float, window_s: float, resolution_s: float) -> list[HostSnapshot]:
    """One snapshot per host and bucket of `resolution_s` over the last `window_s` (up to the
    raw tier's hour), oldest first; [] when there is no store yet or it cannot be read."""
    try:
        conn = connect(path, readonly=True)
    except StoreError:
        return []
    try:
        span = {"a": now - window_s, "b": now, "res": resolution_s}
        gpus: dict[tuple[int, int], list[Gpu]] = {}
        for host, bucket, idx, uuid, util, mem in conn.execute(_GPUS, span):
            gpu = Gpu(idx, uuid, "", util, int(mem * MIB), None, None, None, None)
            gpus.setdefault((host, bucket), []).append(gpu)
        return list(_snapshots(conn.execute(_HOSTS, span), gpus))
    finally:
        conn.close()


def _snapshots(rows: object, gpus: dict[tuple[int, int], list[Gpu]]) -> Iterator[HostSnapshot]:
    for name, host, bucket, t, cpu, mem in rows:  # type: ignore[attr-defined]
        yield HostSnapshot(
            name=name,
            state=HostState.UP,
            time=t,
            cpu=Cpu(cpu, None, None) if cpu is not None else None,
            memory=Memory(0, int(mem * MIB)) if mem is not None else None,
            gpus=tuple(gpus.get((host, bucket), ())),
        )
