"""Where a watched interval's CPU goes at scale: the TUI on the Prometheus source, no keys, each
reading's CPU (the whole process's, from one reading's end to the next) marked sweep or hot.

Run as root with Debian's prometheus, on a backfill that read_ab made (changing data):
PYTHONPATH=src:. python -m benchmarks.prom.watch_cost DIR [--hosts N] [--sweep S]
    [--profile OUT] [--read-only]
--profile writes cProfile data of the event loop's thread over the hot readings between two
sweeps (the decoding thread is not in it). --read-only times `read()` alone, without the app:
one sweep, then hot readings of a screenful-and-margin of 150 hosts.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import time
from pathlib import Path
from typing import Any

from tests.prom.servers import Prometheus

from benchmarks.prom import tui_keys
from benchmarks.prom.source_scale import pin_queries, reading_time
from clustertop.model import HostSnapshot
from clustertop.sources.prometheus.client import PromSettings

Mark = tuple[float, int]
"""The process's CPU at a reading's end, and how many hosts it read."""


class _Marked(tui_keys._Counted):
    marks: list[Mark]
    profile: cProfile.Profile | None = None
    profile_out = ""

    async def read(self, *, full: bool = False) -> list[HostSnapshot]:
        if self.profile is not None and self._hot() is None:  # a sweep: the profile ends
            self.profile.disable()
            self.profile.dump_stats(self.profile_out)
            self.profile = None
        snaps = await super().read(full=full)
        self.marks.append((tui_keys._cpu_s(), len(snaps)))
        return snaps


async def _watch(source: _Marked, args: argparse.Namespace) -> None:
    from clustertop.ui import AppOptions, ClusterTopApp
    from clustertop.ui.app import _settle_gc

    app = ClusterTopApp(source, options=AppOptions(interval=tui_keys.INTERVAL_S))
    async with app.run_test(size=(160, 50)):
        await _until(lambda: source.readings >= 1)
        await asyncio.sleep(1.0)
        _settle_gc()
        mark = len(source.sweeps)
        await _until(lambda: len(source.sweeps) > mark)
        if args.profile:
            await asyncio.sleep(2.0)  # the sweep's snapshots taken
            source.profile, source.profile_out = cProfile.Profile(), args.profile
            source.profile.enable()
        source.marks.clear()
        await _until(lambda: len(source.sweeps) >= mark + 3)
    (cpu0, read0), (cpu1, read1) = source.sweeps[mark], source.sweeps[mark + 2]
    print(f"client CPU per reading over two sweep cycles: {(cpu1 - cpu0) / (read1 - read0):.3f} s")
    for (before, _), (now, hosts) in zip(source.marks, source.marks[1:], strict=False):
        kind = "sweep" if hosts == len(source.host_names) else "hot"
        print(f"{kind:5s} {hosts:5d} hosts: {now - before:.3f} s since the last reading's end")


async def _until(check: Any, limit: float = 600.0) -> None:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise SystemExit("no reading within the limit")
        await asyncio.sleep(0.1)


async def _read_only(source: _Marked, end: float, names: list[str]) -> None:
    source.view(names[1000:1150])
    try:
        for k in range(8):
            tui_keys._AT[0] = reading_time(end, k)
            cpu, wall = tui_keys._cpu_s(), time.monotonic()
            snaps = await tui_keys.PrometheusSource.read(source)
            print(
                f"reading {k}: {len(snaps)} hosts, wall {time.monotonic() - wall:.3f} s, "
                f"CPU {tui_keys._cpu_s() - cpu:.3f} s"
            )
    finally:
        await source.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--sweep", type=float, default=None, help="seconds between sweeps")
    parser.add_argument("--profile", default="")
    parser.add_argument("--read-only", action="store_true")
    args = parser.parse_args()
    end = float((args.dir / "end").read_text())
    prometheus = Prometheus(args.dir, [])
    names = [f"gpu{i:05d}" for i in range(args.hosts)]
    try:
        prometheus.start()
        _Marked.sweeps, _Marked.marks = [], []
        source = _Marked(
            PromSettings(prometheus.url, timeout=60.0), names,
            interval=tui_keys.INTERVAL_S, host_label="instance",
        )  # fmt: skip
        if args.sweep is not None:
            source.sweep_s = args.sweep
        source.end = end
        pin_queries(lambda: tui_keys._AT[0])
        asyncio.run(_read_only(source, end, names) if args.read_only else _watch(source, args))
    finally:
        prometheus.stop()


if __name__ == "__main__":
    main()
