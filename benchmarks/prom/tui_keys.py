"""Keypress-to-repaint of the TUI on the Prometheus source at scale: N hosts x G GPUs backfilled
into a real Prometheus (as source_scale does), the app reading it every interval, and the grid
cursor moved up and down while it does (readings included: they share the app's event loop).

Run as root with Debian's prometheus:
PYTHONPATH=src python -m benchmarks.prom.tui_keys [N] [G] [presses] [changing|steady]
(the data as source_scale describes them: changing by default, steady the sessions 3-4 figure).
The latency is measured as benchmarks/tui_driver.py measures it (DisplayProbe: from just before
the key is posted to the first displayed update that shows the cursor on its new row).
Keys are pressed (at least `presses`) until a sweep (a reading of every host) has come meanwhile.
The client's CPU per reading (interval) is then measured watching, without keys, over two whole
sweep cycles (the hot readings between them included: PrometheusSource.view); the CPU per
reading while keys were pressed is given too.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.prom.servers import Prometheus

from benchmarks.prom.source_scale import backfill, pin_queries, reading_time
from benchmarks.ticks import percentile
from benchmarks.tui_driver import DisplayProbe
from clustertop.model import HostSnapshot, HostState
from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource

INTERVAL_S = 5.0
PRESSES = 60
WINDOW_MAX_S = 600.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Counted(PrometheusSource):
    """The real source, counting its readings; with `end` (a changing backfill's last point),
    reading k asks Prometheus at the backfill's k-th scrape time (new values each interval)."""

    readings = 0
    end: float | None = None
    first_read_at: float | None = None
    """When the first reading's snapshots were ready (before the sink took them)."""
    sweeps: list[tuple[float, int]]
    """At each sweep's end (a reading of every host): the process's CPU, readings so far."""

    async def read(self, *, full: bool = False) -> list[HostSnapshot]:
        if self.end is not None:
            _AT[0] = reading_time(self.end, self.readings)
        snaps = await super().read(full=full)
        if not self.readings:
            self.first_read_at = time.monotonic()
        self.readings += 1
        if len(snaps) == len(self.host_names):
            self.sweeps.append((_cpu_s(), self.readings))
        return snaps


_AT = [0.0]


async def _measure(source: _Counted, hosts: int, presses: int) -> dict[str, Any]:
    from clustertop.ui import AppOptions, ClusterTopApp
    from clustertop.ui.app import _settle_gc

    app = ClusterTopApp(source, options=AppOptions(interval=INTERVAL_S))
    latencies: list[float] = []
    missed = 0
    launched = time.monotonic()
    async with app.run_test(size=(160, 50)) as pilot:
        probe = DisplayProbe(app)
        started = time.monotonic()
        first_screen, first_grid = await _first_grids(app, probe, hosts, launched)
        while source.readings < 1 and time.monotonic() - started < 120:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the first reading's rows shown
        first_shown = time.monotonic() - started
        print(f"first reading shown after {first_shown:.1f} s", file=sys.stderr, flush=True)
        # A headless app leaves the collector alone (a test process runs many apps); the app a
        # user runs settles it once, GC_SETTLE s after mount: here, before the window below, so
        # that one-off full collection is not counted as a reading's.
        _settle_gc()
        # Keys: at least `presses`, pressed until a sweep (a reading of every host) has come
        # meanwhile; the client's CPU per reading over them, keys included.
        first = len(source.sweeps)
        keys_cpu, keys_readings = _cpu_s(), source.readings
        rng = random.Random(2)
        table = app.grid.table
        i = -1
        window = time.monotonic()
        while (i := i + 1) < presses or len(source.sweeps) <= first:
            if time.monotonic() - window > WINDOW_MAX_S:
                raise SystemExit(f"no sweep within {WINDOW_MAX_S:g} s")
            await asyncio.sleep(rng.uniform(0.05, 0.25))
            key, row = (
                ("down", table.cursor_row + 1) if i % 2 == 0 else ("up", table.cursor_row - 1)
            )
            pressed = time.monotonic()
            await pilot.press(key)
            shown = await probe.wait_row(pressed, row, 10.0)
            if shown is None:
                missed += 1
            else:
                latencies.append(1000.0 * (shown - pressed))
            print(f"press {i}: {latencies[-1] if shown else 'missed'}", file=sys.stderr, flush=True)
        keys_cpu, keys_readings = _cpu_s() - keys_cpu, source.readings - keys_readings
        presses = i
        # Watching (no key): the whole client's CPU (app, source, decoding thread) over two
        # whole sweep cycles, from the end of one sweep to the end of the second after it
        # (the hot readings between included), per reading: what it costs per interval.
        mark = len(source.sweeps)
        while len(source.sweeps) < mark + 3:
            if time.monotonic() - window > 2 * WINDOW_MAX_S:
                raise SystemExit("no three sweeps while watching")
            await asyncio.sleep(0.1)
        rows = table.row_count
        (cpu0, readings0), (cpu1, readings1) = source.sweeps[mark], source.sweeps[mark + 2]
        cpu, readings = cpu1 - cpu0, readings1 - readings0
    ms = sorted(latencies)
    return {"hosts": hosts, "rows": rows, "readings": source.readings, "presses": presses,
            "missed": missed, "first_screen_s": first_screen, "first_full_grid_s": first_grid,
            "first_reading_shown_s": first_shown,
            "first_read_s": source.first_read_at and source.first_read_at - launched,
            "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
            "max_ms": ms[-1] if ms else None, "readings_in_window": readings,
            "sweep_s": getattr(source, "sweep_s", None),
            "client_cpu_s_per_reading": cpu / readings if readings else None,
            "readings_pressing": keys_readings,
            "client_cpu_s_per_reading_pressing": keys_cpu / keys_readings if keys_readings
            else None}  # fmt: skip


async def _first_grids(
    app: Any, probe: DisplayProbe, hosts: int, launched: float
) -> tuple[float | None, float | None]:
    """Seconds from the app's start to the first displayed update in which every row in view
    (a screenful) shows a reading, then every host's row does (the full grid); None for one
    that takes over 120 s."""
    table = app.grid.table
    rows = table._rows

    def read(names: Any) -> bool:
        return not any(
            getattr(getattr(rows.get(n), "target", None), "state", HostState.CONNECTING)
            is HostState.CONNECTING
            for n in names
        )

    checks = (
        lambda: read(table.shown_keys()),
        lambda: table.row_count >= hosts and read(list(rows)),
    )
    # The grid lists every host from the start ("connecting…" until its first reading).
    seen: list[float | None] = [None, None]
    while None in seen:
        if time.monotonic() - launched > 120:
            return None, None
        for index, check in enumerate(checks):
            if seen[index] is None and table.row_count and check():
                seen[index] = time.monotonic() - POLL_S  # shown since the last poll at most
        await asyncio.sleep(POLL_S)
    screen, full = [await _shown_after(probe, at or 0.0, launched) for at in seen]
    return screen, full


POLL_S = 0.01


async def _shown_after(probe: DisplayProbe, since: float, launched: float) -> float | None:
    while not probe.stamps or probe.stamps[-1][0] < since:
        if time.monotonic() - since > 10:
            return None
        await asyncio.sleep(0.005)
    return min(at for at, _ in probe.stamps if at >= since) - launched


def main(hosts: int, gpus: int, presses: int = PRESSES, data: str = "changing") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ctpromkeys-") as name:
        root = Path(name)
        end = time.time() - 5
        backfill(root, hosts, gpus, end, data == "changing")
        prometheus = Prometheus(root, [])
        try:
            prometheus.start()
            _Counted.sweeps = []
            source = _Counted(
                PromSettings(prometheus.url, timeout=60.0),
                [f"gpu{i:05d}" for i in range(hosts)],
                interval=INTERVAL_S,
                host_label="instance",
            )
            if data == "changing":
                source.end = end
                pin_queries(lambda: _AT[0])
            return {"data": data, **asyncio.run(_measure(source, hosts, presses))}
        finally:
            prometheus.stop()


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:4]]
    data = sys.argv[4] if len(sys.argv) > 4 else "changing"
    if data not in ("changing", "steady"):
        raise SystemExit("data: changing (values new at each scrape) or steady (the same)")
    print(json.dumps(main(*(args + [5000, 8, PRESSES][len(args) :]), data=data), indent=1))
