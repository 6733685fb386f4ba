"""HistoryRecorder: the app's sink queues readings; a writer thread stores them off the UI path."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import HostSnapshot
from clustertop.store.rows import Thresholds
from clustertop.store.schema import StoreError
from clustertop.store.writer import Reading, StoreWriter

QUEUE_SIZE = 20_000
"""Readings waiting for the writer at most; more are dropped (and counted), never waited for."""
GATHER_S = 0.5
"""Seconds the writer waits after a reading for the rest of its tick's readings."""
_STOP = object()


class HistoryRecorder:
    """Records every reading offered to it, on its own thread, until closed or it fails.

    A failure (disk full, a file gone bad) stops recording for good: `problem` says why, and
    the monitor carries on without history.
    """

    def __init__(
        self,
        path: Path,
        *,
        interval: float,
        interval_for: Callable[[str], float | None] | None = None,
        limits: Thresholds | None = None,
        retention_s: float = 365 * 86400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        """The store's file."""
        self.interval = interval
        """What one reading stands for, seconds (the source's interval)."""
        self.interval_for = interval_for
        """A host's own interval where it has one (`[hosts."x"] interval`), else None."""
        self.problem: str | None = None
        """Why recording stopped (None while it works)."""
        self.dropped = 0
        """Readings dropped because the writer fell behind."""
        self._writer = StoreWriter(path, limits, retention_s)  # raises StoreError at once
        self._clock = clock
        # A plain deque and two events, not a queue.Queue: a Queue's put takes a lock and wakes
        # the waiting writer for every reading (ten wake-ups a tick for ten hosts); here the
        # first reading of a tick wakes it, and it takes the tick's readings in one go.
        self._items: deque[object] = deque()
        self._ready = threading.Event()
        """Set when something is queued (cleared by the writer before it takes the items)."""
        self._urgent = threading.Event()
        """Set by flush and close: the writer stops waiting for the rest of a tick."""
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def offer(self, snap: HostSnapshot, analysis: ClusterAnalysis | None = None) -> None:
        """Queue one reading (with the analysis's stale containers and alerts); never blocks."""
        if self.problem is not None:
            return
        stale: tuple[tuple[str, str, float], ...] = ()
        alerts: tuple[tuple[str, str, str], ...] = ()
        if analysis is not None and snap.is_up:
            stale = _stale_of(snap, analysis)
            alerts = tuple(
                (a.key, a.kind.value, a.message)
                for a in analysis.alert_tracker.host_alerts(snap.name)
            )
        if len(self._items) >= QUEUE_SIZE:
            self.dropped += 1
            return
        own = self.interval_for(snap.name) if self.interval_for is not None else None
        self._items.append(Reading(snap, own or self.interval, stale, alerts))
        if not self._ready.is_set():  # the tick's first reading: wake the writer
            self._ready.set()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the thread and close the store."""
        if self._thread.is_alive():
            self._put_control(_STOP)
            self._thread.join(timeout)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (tests, `--once`); False on timeout."""
        done = threading.Event()
        self._put_control(done)
        return done.wait(timeout) or self.problem is not None

    def _put_control(self, item: object) -> None:
        """Queue a flush's event or the stop, and have the writer act on it at once."""
        self._items.append(item)
        self._urgent.set()
        self._ready.set()

    def _run(self) -> None:
        try:
            while self._drain():
                pass
        finally:
            self._writer.close()

    def _drain(self) -> bool:
        """Write one batch: the readings of one tick (one transaction, one commit per tick)."""
        self._ready.wait()
        self._ready.clear()  # before taking the items: one queued after this wakes us again
        # Hosts of a tick answer over a few hundred ms: wait for the rest of them, not a
        # transaction each (a flush or close cuts the wait short).
        self._urgent.wait(GATHER_S)
        self._urgent.clear()
        items: list[object] = []
        take = self._items.popleft
        while self._items and len(items) < QUEUE_SIZE:
            items.append(take())
        if len(self._items):
            self._ready.set()  # more than a batch: the rest in the next one
        readings = [item for item in items if isinstance(item, Reading)]
        try:
            if readings and self.problem is None:
                self._writer.write(readings)
                self._writer.maybe_roll_up(self._clock())
        except (sqlite3.Error, StoreError, OSError) as exc:
            self.problem = f"history recording stopped: {_why(exc)} ({self.path})"
        for item in items:
            if isinstance(item, threading.Event):
                item.set()
        return not any(item is _STOP for item in items)


def _stale_of(snap: HostSnapshot, analysis: ClusterAnalysis) -> tuple[tuple[str, str, float], ...]:
    ids = analysis.stale_tracker.stale(snap.name)
    if not ids:
        return ()
    names = {ctr.id: ctr.name for ctr in snap.containers}
    found = []
    for cid in ids:
        since = analysis.stale_tracker.idle_since(snap.name, cid)
        if since is not None:
            found.append((cid, names.get(cid, ""), since))
    return tuple(found)


def _why(exc: BaseException) -> str:
    """The error in words, naming the likely cause of SQLite's I/O errors."""
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL":
        return "the disk is full"
    if name.startswith("SQLITE_IOERR"):
        return f"cannot write: {exc} (disk full, file too large or failing disk)"
    return str(exc)
