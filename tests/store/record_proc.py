"""A real recording process for the reliability tests: `python -m tests.store.record_proc`."""

from __future__ import annotations

import resource
import signal
import sys
import time
from pathlib import Path

from clustertop.store.recorder import HistoryRecorder
from tests.store.crafted import reading


def _ticks(path: Path, host: str, count: int) -> None:
    """Record `count` ticks of one host, printing `tick K` once each is written."""
    recorder = HistoryRecorder(path, interval=10.0)
    for k in range(1, count + 1):
        snap = reading(k, host)
        recorder.offer(snap)
        if not recorder.flush():
            raise SystemExit("flush timed out")
        if recorder.problem:
            print(f"problem {recorder.problem}", flush=True)
            return
        print(f"tick {k}", flush=True)
    recorder.close()


def _until_full(path: Path, limit: int) -> None:
    """Record with the file size limited to `limit` bytes until recording stops."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    recorder = HistoryRecorder(path, interval=10.0)
    for k in range(1, 100_000):
        recorder.offer(reading(k % 1000 + 1, f"host{k // 1000}"))
        if k % 50 == 0:
            recorder.flush()
            if recorder.problem:
                print(f"problem {recorder.problem}", flush=True)
                print("still running", flush=True)
                recorder.close()
                return
    print("never full", flush=True)


def main() -> None:
    """`ticks PATH HOST COUNT [SLEEP]` or `full PATH LIMIT`."""
    mode, path = sys.argv[1], Path(sys.argv[2])
    if mode == "ticks":
        _ticks(path, sys.argv[3], int(sys.argv[4]))
        if len(sys.argv) > 5:
            time.sleep(float(sys.argv[5]))
    else:
        _until_full(path, int(sys.argv[3]))


if __name__ == "__main__":
    main()
