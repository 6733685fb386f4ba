"""The writer takes a tick's readings in one transaction, and nothing offered is lost on close."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from clustertop.store import recorder as recorder_module
from clustertop.store.recorder import HistoryRecorder
from clustertop.store.writer import Reading, StoreWriter
from tests.store.crafted import T0, reading


def _raw_hosts(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM raw_host").fetchone()[0])
    finally:
        conn.close()


def _counting_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    write = StoreWriter.write

    def counted(self: StoreWriter, readings: Sequence[Reading]) -> None:
        sizes.append(len(readings))
        write(self, readings)

    monkeypatch.setattr(StoreWriter, "write", counted)
    return sizes


def test_close_writes_every_reading_offered_before_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    recorder = HistoryRecorder(path, interval=10.0, clock=lambda: T0)
    for k in range(1, 201):
        for host in ("a", "b", "c"):
            recorder.offer(reading(k, host))
    recorder.close()
    assert recorder.problem is None and recorder.dropped == 0
    assert _raw_hosts(path) == 600


def test_a_ticks_readings_are_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = _counting_writes(monkeypatch)
    monkeypatch.setattr(recorder_module, "GATHER_S", 60.0)  # only the flush ends a gather
    recorder = HistoryRecorder(tmp_path / "h.sqlite", interval=10.0, clock=lambda: T0)
    for k in (1, 2, 3):
        for host in [f"h{i}" for i in range(10)]:  # offered within the gather: one batch
            recorder.offer(reading(k, host))
        assert recorder.flush()
    recorder.close()
    assert sizes == [10, 10, 10]
    assert _raw_hosts(tmp_path / "h.sqlite") == 30


def test_readings_offered_from_another_thread_meanwhile_are_all_written(
    tmp_path: Path,
) -> None:
    path = tmp_path / "h.sqlite"
    recorder = HistoryRecorder(path, interval=10.0, clock=lambda: T0)

    def offer(host: str) -> None:
        for k in range(1, 301):
            recorder.offer(reading(k, host))

    threads = [threading.Thread(target=offer, args=(f"h{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for k in range(1, 301):  # flushes from this thread while the others offer
        recorder.offer(reading(k, "main"))
        if k % 25 == 0:
            assert recorder.flush()
    for thread in threads:
        thread.join(30)
    recorder.close()
    assert recorder.problem is None and recorder.dropped == 0
    assert _raw_hosts(path) == 1200
