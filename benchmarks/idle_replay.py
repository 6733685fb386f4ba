"""The TUI's own CPU per tick, offline: recorded snapshots of the idle fleet replayed headless.

Record once (the idle fleet, 10 hosts, every snapshot the app stores):

    PYTHONPATH=src:. python -m benchmarks.idle_cost --no-htop --windows 1 --seconds 60 \
        --record /tmp/snaps.pickle

then replay it into `clustertop`'s app exactly as built for a terminal (build_app: analysis,
history recorder), 160x48, headless, a tick of every host at a time, each retimed to now:

    PYTHONPATH=src:. python -m benchmarks.idle_replay /tmp/snaps.pickle --ticks 150

It prints the main thread's CPU per tick (thread_time) in all and per part: the app's sink
(store, analysis, history offer), the repaint (grid rows, table sync), the compositor pass
(with the terminal bytes a real driver would encode; headless skips only the write); and the
other threads' CPU per tick (the history writer's: process_time less the main thread's). Nothing
of the SSH source runs: this is the UI's share of benchmarks.idle_cost's figure. Run the same
file with another tree's src (PYTHONPATH) to compare. Other work on the machine moves the
figure by up to 10 % from one run to the next: run the two trees at the same time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual._compositor import Compositor
from textual.screen import Screen

from clustertop.cli.launch import build_app
from clustertop.config.settings import load_config
from clustertop.model import HostSnapshot
from clustertop.sources.base import SnapshotSink, Source
from clustertop.ui.app import ClusterTopApp, _settle_gc

TICK_GAP_S = 0.4
"""Wall seconds between replayed ticks (the app's repaint needs none: a whole tick repaints)."""


def load(path: Path) -> list[HostSnapshot]:
    """Every snapshot pickled one after another into `path`."""
    snaps = []
    with path.open("rb") as f:
        while True:
            try:
                snaps.append(pickle.load(f))
            except EOFError:
                return snaps


def ticks(snaps: Sequence[HostSnapshot]) -> list[list[HostSnapshot]]:
    """The up readings, one tick per list: each host's n-th up reading in tick n (hosts in
    their first seen order), as many ticks as the host with the fewest readings has."""
    per_host: dict[str, list[HostSnapshot]] = {}
    for snap in snaps:
        if snap.is_up and snap.cpu is not None and snap.cpu.percent is not None:
            per_host.setdefault(snap.name, []).append(snap)
    if not per_host:
        raise SystemExit("idle_replay: no up snapshot with CPU figures in the recording")
    count = min(len(found) for found in per_host.values())
    return [[found[i] for found in per_host.values()] for i in range(count)]


class ReplaySource(Source):
    """Emits the recorded ticks over and over, each snapshot retimed to now."""

    def __init__(self, recorded: list[list[HostSnapshot]], count: int, done: asyncio.Event):
        self._ticks = recorded
        self._count = count
        self._done = done
        self.started: asyncio.Event = asyncio.Event()
        """Set when the warm-up ticks are over and measuring starts."""

    @property
    def host_names(self) -> Sequence[str]:
        return [snap.name for snap in self._ticks[0]]

    async def run(self, sink: SnapshotSink) -> None:
        warmup = min(10, len(self._ticks))
        for n in range(warmup + self._count):
            if n == warmup:
                self.started.set()
            for snap in self._ticks[n % len(self._ticks)]:
                now = time.time()
                sink(dataclasses.replace(snap, time=now, data_time=now, state_since=now - 600))
                await asyncio.sleep(0.001)
            await asyncio.sleep(TICK_GAP_S)
        self._done.set()
        await asyncio.Event().wait()


class Parts:
    """thread_time of the main thread around a few entry points, once measuring started."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self.on = False

    def wrap(self, owner: Any, name: str, part: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        depth = [0]

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not self.on or depth[0]:
                return original(*args, **kwargs)
            depth[0] += 1
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1
                total = self.totals.setdefault(part, [0.0, 0])
                total[0] += time.thread_time() - start
                total[1] += 1

        setattr(owner, name, wrapped)


def _with_terminal_bytes(app: ClusterTopApp) -> None:
    """Headless apps skip encoding the update for the terminal: encode it, as a driver would."""
    original = Compositor.render_update

    def render_update(self: Compositor, *args: Any, **kwargs: Any) -> Any:
        update = original(self, *args, **kwargs)
        encode = getattr(update, "render_segments", None)  # a CompositorUpdate
        if encode is not None:
            encode(app.console)
        return update

    Compositor.render_update = render_update  # type: ignore[method-assign]


async def replay(
    recorded: list[list[HostSnapshot]], count: int, profile: Path | None
) -> dict[str, Any]:
    """Run the app over `count` ticks after a warm-up; the main thread's CPU per tick."""
    done = asyncio.Event()
    source = ReplaySource(recorded, count, done)
    with tempfile.TemporaryDirectory(prefix="ct-replay-") as home:
        env = {"HOME": home, "XDG_STATE_HOME": home, "XDG_CONFIG_HOME": home}
        app = build_app(source, load_config({}, env=env))
        parts = Parts()
        parts.wrap(ClusterTopApp, "_receive", "sink (store, analysis, history offer)")
        parts.wrap(ClusterTopApp, "_repaint", "repaint (grid rows, table sync)")
        parts.wrap(Screen, "_compositor_refresh", "compositor pass and terminal bytes")
        _with_terminal_bytes(app)
        profiler = cProfile.Profile(time.thread_time) if profile else None
        async with app.run_test(size=(160, 48)):
            await source.started.wait()
            _settle_gc()  # as in a terminal (headless apps leave the collector be)
            parts.on = True
            if profiler is not None:
                profiler.enable()
            start, process_start = time.thread_time(), time.process_time()
            await done.wait()
            await asyncio.sleep(TICK_GAP_S)
            used = time.thread_time() - start
            others = time.process_time() - process_start - used
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(str(profile))
            parts.on = False
    per_tick = {name: round(1000 * cpu / count, 3) for name, (cpu, _) in parts.totals.items()}
    calls = {name: round(n / count, 2) for name, (_, n) in parts.totals.items()}
    return {
        "ms_per_tick": round(1000 * used / count, 3),
        "other_threads_ms_per_tick": round(1000 * others / count, 3),
        "parts": per_tick,
        "calls": calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path, help="snapshots pickled by idle_cost --record")
    parser.add_argument("--ticks", type=int, default=150)
    parser.add_argument("--cprofile", type=Path, help="write cProfile stats of the window here")
    args = parser.parse_args(argv)
    recorded = ticks(load(args.recording))
    result = asyncio.run(replay(recorded, args.ticks, args.cprofile))
    import clustertop

    result["src"] = str(Path(clustertop.__file__).parents[1])
    result["hosts"] = len(recorded[0])
    result["load"] = os.getloadavg()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
