"""Keypress-to-repaint latency of clustertop's TUI, headless, with N hosts updating every tick.

Method: Textual computes every screen update in headless mode too and hands it to
`App._display`, which skips only the terminal write. We wrap `_display` to (1) render the update
to terminal escape sequences, as a real terminal run would, and (2) stamp the time and the grid
cursor row. A keypress's latency is from just before `pilot.press()` posts the key to the first
displayed update that shows the cursor on its new row. `run_tui` starts this module in its own
process (`python -m benchmarks.tui_driver`) and reads its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import subprocess
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.frames import FrameSet
from benchmarks.harness import REPO, python_env, python_module
from benchmarks.ticks import emit, percentile, status_kib
from clustertop.model import Cpu, HostSnapshot
from clustertop.sources.base import SnapshotSink, Source
from clustertop.sources.ssh.assemble import FrameAssembler
from clustertop.sources.ssh.probe import parse_frame

MARKER = "@cttui"


def base_snapshot(frames: FrameSet) -> HostSnapshot:
    """A real host's snapshot: the recorded frames through clustertop's own assembler."""
    assembler = FrameAssembler("base", MARKER)
    snap = None
    for sent in range(len(frames.first) + 1):
        text = frames.frame(sent).render(MARKER, sent + 1, 1000.0 + 2 * sent)
        snap = assembler.apply(parse_frame(text, MARKER), 1.0)
    assert snap is not None
    return snap


class ReplaySource(Source):
    """N hosts, all updating every `interval` s with changing CPU and load (every row repaints).

    Each tick's snapshots arrive spread over `spread` seconds in small bursts, as an SSH sweep's do.
    """

    def __init__(self, base: HostSnapshot, hosts: int, interval: float, spread: float) -> None:
        self._base = base
        self._names = [f"gpu{i:04d}" for i in range(hosts)]
        self._interval = interval
        self._spread = spread
        self.ticks = 0
        """Ticks emitted."""

    @property
    def host_names(self) -> Sequence[str]:
        return self._names

    def _snap(self, name: str, rng: random.Random) -> HostSnapshot:
        now = time.time()
        cpu = Cpu(percent=rng.uniform(0, 100), user_percent=50.0, system_percent=5.0, count=64)
        load = (rng.uniform(0, 64), 10.0, 8.0)
        return replace(self._base, name=name, time=now, data_time=now, cpu=cpu, load=load)

    async def run(self, sink: SnapshotSink) -> None:
        rng = random.Random(1)
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        bursts = 10
        while True:
            chunk = max(1, len(self._names) // bursts)
            for start in range(0, len(self._names), chunk):
                for name in self._names[start : start + chunk]:
                    sink(self._snap(name, rng))
                await asyncio.sleep(self._spread / bursts)
            self.ticks += 1
            next_tick += self._interval
            await asyncio.sleep(max(0.0, next_tick - loop.time()))


class DisplayProbe:
    """Wraps App._display: renders each update to escape sequences and stamps time + cursor row."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.stamps: list[tuple[float, int]] = []
        """(monotonic time, grid cursor row) of every displayed update."""
        original = app._display
        table = app.grid.table

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)  # what a terminal run would write
            self.stamps.append((time.monotonic(), table.cursor_row))

        app._display = display

    async def wait_row(self, since: float, row: int, timeout: float) -> float | None:
        """Time of the first update after `since` showing the cursor on `row`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for stamp, shown in reversed(self.stamps):
                if stamp < since:
                    break
                if shown == row:
                    return min(s for s, r in self.stamps if s >= since and r == row)
            await asyncio.sleep(0.002)
        return None


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from clustertop.ui import AppOptions, ClusterTopApp

    base = base_snapshot(FrameSet.load(Path(args.frames)))
    source = ReplaySource(base, args.hosts, args.interval, args.spread)
    app = ClusterTopApp(source, options=AppOptions(interval=args.interval))
    latencies: list[float] = []
    missed = 0
    async with app.run_test(size=(160, 50)) as pilot:
        probe = DisplayProbe(app)
        while source.ticks < 2:  # every host shown and updating before measuring
            await asyncio.sleep(0.05)
        rng = random.Random(2)
        table = app.grid.table
        for i in range(args.presses):
            await asyncio.sleep(rng.uniform(0.05, 0.25))
            key, row = (
                ("down", table.cursor_row + 1) if i % 2 == 0 else ("up", table.cursor_row - 1)
            )
            started = time.monotonic()
            await pilot.press(key)
            shown = await probe.wait_row(started, row, 5.0)
            if shown is None:
                missed += 1
            else:
                latencies.append(1000.0 * (shown - started))
    ms = sorted(latencies)
    return {
        "hosts": args.hosts,
        "presses": args.presses,
        "missed": missed,
        "ticks": source.ticks,
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": ms[-1] if ms else None,
        "hwm_kib": status_kib("VmHWM"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", required=True, help="saved FrameSet")
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--spread", type=float, default=0.3)
    parser.add_argument("--presses", type=int, default=100)
    args = parser.parse_args()
    emit("start")
    emit("tui", **asyncio.run(measure(args)))


def run_tui(frames: Path, hosts: int, presses: int, interval: float, work: Path) -> dict[str, Any]:
    """The driver's figures (p50/p95/max ms, missed keys...), or {"error": why}."""
    argv = python_module(
        "benchmarks.tui_driver",
        "--frames", str(frames),
        "--hosts", str(hosts),
        "--presses", str(presses),
        "--interval", str(interval),
    )  # fmt: skip
    print(f"TUI, {hosts} hosts updating every {interval:g} s", flush=True)
    log = work / "tui.log"
    try:
        with log.open("w") as err:
            done = subprocess.run(
                argv, cwd=REPO, env=python_env(),
                stdout=subprocess.PIPE, stderr=err, text=True, timeout=120 + presses, check=False,
            )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": "TUI measurement timed out"}
    for line in reversed(done.stdout.splitlines()):
        event = json.loads(line)
        if event.get("ev") == "tui":
            figures: dict[str, Any] = {**event, "interval": interval}
            print(f"  TUI p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")
            return figures
    tail = log.read_text(errors="replace")[-500:]
    return {"error": f"TUI driver exited with {done.returncode}: {tail}"}


if __name__ == "__main__":
    main()
