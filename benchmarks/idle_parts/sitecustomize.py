"""idle_cost --parts / --cprofile: where a running clustertop's main-thread CPU time goes.

Python imports this module at start when its folder is on PYTHONPATH; it does nothing unless
IDLE_PARTS_OUT or IDLE_CPROFILE_OUT names a file. With IDLE_PARTS_OUT, a few seconds after start
(everything imported) it wraps the entry points below and appends, every few seconds, one JSON
line of cumulative figures: {part: [CPU seconds, calls]}, plus the main thread's CPU and the
monotonic time. With IDLE_CPROFILE_OUT, signals start and stop cProfile (see _cprofile). With
IDLE_PAUSE_FILE, the source stops once that file exists (see _pause): what is left is Textual's
floor and the app's own timers (idle_cost --floor).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from typing import Any

PARTS = [
    ("asyncssh.connection", "SSHConnection", "data_received", "SSH receive (asyncssh)"),
    ("clustertop.sources.ssh.session", None, "parse_frame", "frame parse"),
    ("clustertop.sources.ssh.assemble", "FrameAssembler", "apply", "snapshot assembly"),
    ("clustertop.analysis.live", "ClusterAnalysis", "update", "analysis update"),
    ("clustertop.store.recorder", "HistoryRecorder", "offer", "history recorder offer"),
    ("clustertop.ui.app", "ClusterTopApp", "_repaint", "grid rows and table sync (_repaint)"),
    ("textual.screen", "Screen", "_compositor_refresh", "compositor render and terminal write"),
    ("textual.screen", "Screen", "_refresh_layout", "screen layout"),
]
"""(module, class or None, function, part)."""
_totals: dict[str, list[float]] = {}


def _wrap(owner: Any, name: str, part: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)
    main = threading.main_thread().ident
    depth = [0]

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if threading.get_ident() != main or depth[0]:
            return original(*args, **kwargs)
        depth[0] += 1
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1
            total = _totals.setdefault(part, [0.0, 0])
            total[0] += time.thread_time() - start
            total[1] += 1

    setattr(owner, name, wrapped)


def _run(out: str) -> None:
    import importlib

    time.sleep(5)
    for module, cls, name, part in PARTS:
        owner = importlib.import_module(module)
        _wrap(getattr(owner, cls) if cls else owner, name, part)
    clock = time.pthread_getcpuclockid(threading.main_thread().ident or 0)
    while True:
        time.sleep(2)
        line = {k: list(v) for k, v in _totals.items()}
        line["main thread"] = [time.clock_gettime(clock), 0]
        line["monotonic"] = [time.monotonic(), 0]
        with open(out, "a") as f:
            f.write(json.dumps(line) + "\n")


def _cprofile(out: str) -> None:
    """SIGUSR1 starts cProfile on the main thread (CPU time, not wall time: a loaded machine's
    waits stay out), SIGUSR2 stops it and writes its stats to `out`."""
    import cProfile
    import signal

    profile = cProfile.Profile(time.thread_time)

    def start(signum: int, frame: object) -> None:
        profile.enable()

    def stop(signum: int, frame: object) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def _pause(flag: str) -> None:
    """Once `flag` exists: the app's source is cancelled (no frames from then on) and no host
    shows an age (the last readings stay on screen as they were): the app then costs only
    Textual's own idle work and its timers (the 1 s age tick still runs). Done on the app's
    thread by its next `_schedule_repaint` (looked up on every call, so wrapping it any time
    works; gc.get_objects cannot find the app: its heap is frozen)."""
    time.sleep(3)
    from clustertop.ui import app as app_module

    original: Callable[[Any], None] = app_module.ClusterTopApp._schedule_repaint
    paused = [False]

    def schedule_repaint(app: Any) -> None:
        if not paused[0] and os.path.exists(flag):
            paused[0] = True
            app_module._shows_age = lambda *args: False
            if app._source_task is not None:
                app._source_task.cancel()
        original(app)

    app_module.ClusterTopApp._schedule_repaint = schedule_repaint  # type: ignore[method-assign]


def _record(out: str) -> None:
    """Every snapshot the app stores, pickled to `out` (one pickle after another): the input
    of benchmarks/idle_replay.py. SnapshotStore.put is looked up on every call."""
    import pickle

    time.sleep(3)
    from clustertop.ui import store

    original: Callable[[Any, Any], None] = store.SnapshotStore.put

    def put(self: Any, snap: Any) -> None:
        with open(out, "ab") as f:
            pickle.dump(snap, f)
        original(self, snap)

    store.SnapshotStore.put = put  # type: ignore[method-assign]


def _record_frames(out: str) -> None:
    """Every probe frame a session assembles, one JSON line each (name, marker, info, client
    time, text, latency, cut): the input of benchmarks/assemble_replay.py. parse_frame and
    FrameAssembler.apply are looked up on every call."""
    time.sleep(3)
    from clustertop.sources.ssh import assemble, session

    texts: dict[int, str] = {}
    parse: Callable[[str, str], Any] = session.parse_frame
    apply: Callable[..., Any] = assemble.FrameAssembler.apply

    def parse_frame(text: str, marker: str) -> Any:
        frame = parse(text, marker)
        texts[id(frame)] = text
        return frame

    def wrapped(self: Any, frame: Any, latency_ms: Any, cut: bool = False) -> Any:
        info = [self.info.hz, self.info.page_size, self.info.hostname]
        line = {"name": self.name, "marker": self.marker, "info": info, "t": time.time(),
                "text": texts.pop(id(frame), None), "latency": latency_ms, "cut": cut}  # fmt: skip
        if line["text"] is not None:
            with open(out, "a") as f:
                f.write(json.dumps(line) + "\n")
        return apply(self, frame, latency_ms, cut)

    session.parse_frame = parse_frame
    assemble.FrameAssembler.apply = wrapped  # type: ignore[method-assign]


if os.environ.get("IDLE_FRAMES_OUT"):
    threading.Thread(
        target=_record_frames, args=(os.environ["IDLE_FRAMES_OUT"],), daemon=True
    ).start()
if os.environ.get("IDLE_RECORD_OUT"):
    threading.Thread(target=_record, args=(os.environ["IDLE_RECORD_OUT"],), daemon=True).start()
if os.environ.get("IDLE_PAUSE_FILE"):
    threading.Thread(target=_pause, args=(os.environ["IDLE_PAUSE_FILE"],), daemon=True).start()
if os.environ.get("IDLE_PARTS_OUT"):
    threading.Thread(target=_run, args=(os.environ["IDLE_PARTS_OUT"],), daemon=True).start()
if os.environ.get("IDLE_CPROFILE_OUT"):
    _cprofile(os.environ["IDLE_CPROFILE_OUT"])
