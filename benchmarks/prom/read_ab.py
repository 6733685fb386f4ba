"""A/B of the Prometheus source's readings on one persistent backfill (N hosts x G GPUs).

PYTHONPATH=src:. python -m benchmarks.prom.read_ab DIR [--hosts N] [--gpus G] [--readings K]
    [--rounds R] [--variant NAME=SRC ...] [--profile OUT] [--data changing|steady]
DIR keeps the backfill between runs (made on first use, as source_scale makes it; one DIR per
--data). Prometheus is started once; each variant (a `src` folder) runs in its own process,
variants alternating per round: K readings of `PrometheusSource.read()`, wall and client CPU
(getrusage) per reading, and in brackets the CPU of the event loop's thread alone (what the
UI, which shares that loop, would have waited for). --data changing (the default): reading k
is asked at the backfill's k-th scrape time (source_scale.reading_time), so each reading finds
new values as in a live fleet, the same ones for every variant. --data steady (the figure of
sessions 3-4): every query pinned to the backfill's last point, so the answers never change.
With --profile, one more process of the first variant writes cProfile data of its
readings to OUT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

_CHILD = r"""
import asyncio, json, resource, sys, time
from clustertop.sources.prometheus import client
from clustertop.sources.prometheus.client import PromSettings
from clustertop.sources.prometheus.source import PrometheusSource

url, end, profile = sys.argv[1], float(sys.argv[2]), sys.argv[5]
hosts, readings, changing = int(sys.argv[3]), int(sys.argv[4]), sys.argv[6] == "changing"
from benchmarks.prom.source_scale import pin_queries, reading_time
clock = [reading_time(end, 0) if changing else end]
pin_queries(lambda: clock[0])

def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime

async def main():
    source = PrometheusSource(PromSettings(url, timeout=120.0),
        [f"gpu{i:05d}" for i in range(hosts)], interval=5.0, host_label="instance")
    out = []
    for k in range(readings):
        clock[0] = reading_time(end, k) if changing else end
        wall, c, loop = time.perf_counter(), cpu(), time.thread_time()
        snaps = await source.read()
        out.append((time.perf_counter() - wall, cpu() - c, sum(s.is_up for s in snaps),
                    sum(len(s.gpus) for s in snaps), time.thread_time() - loop))
    await source.aclose()
    return out

if profile:
    import cProfile
    from clustertop.sources.prometheus import source as _source

    async def inline(work):
        return work()

    client.off_loop = _source.off_loop = inline  # the decoding thread's work profiled too
    prof = cProfile.Profile()
    prof.enable()
    result = asyncio.run(main())
    prof.disable()
    prof.dump_stats(profile)
else:
    result = asyncio.run(main())
print(json.dumps(result))
"""


def _backfill(root: Path, hosts: int, gpus: int, changing: bool) -> float:
    """The backfill's last point (unix time), made in `root` unless it is there already."""
    from benchmarks.prom.source_scale import backfill

    stamp = root / "end"
    kind = root / "data-kind"
    made = kind.read_text() if kind.exists() else "steady"
    if stamp.exists():
        if made != ("changing" if changing else "steady"):
            raise SystemExit(f"{root} holds a {made} backfill: give another DIR")
        return float(stamp.read_text())
    root.mkdir(parents=True, exist_ok=True)
    end = time.time() - 5
    backfill(root, hosts, gpus, end, changing)
    kind.write_text("changing" if changing else "steady")
    stamp.write_text(repr(end))
    return end


def _run(src: str, url: str, end: float, args: argparse.Namespace, profile: str = "") -> list:
    env = {**os.environ, "PYTHONPATH": f"{src}:."}
    argv = [sys.executable, "-c", _CHILD, url, f"{end:.3f}", str(args.hosts), str(args.readings)]
    argv += [profile, args.data]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--hosts", type=int, default=5000)
    parser.add_argument("--gpus", type=int, default=8)
    parser.add_argument("--readings", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--variant", action="append", default=[])
    parser.add_argument("--profile", default="")
    parser.add_argument("--data", choices=("changing", "steady"), default="changing")
    parser.add_argument("--url", default="", help="a Prometheus already serving DIR")
    args = parser.parse_args()
    variants = [v.split("=", 1) for v in args.variant] or [["this", "src"]]
    from tests.prom.servers import Prometheus

    end = _backfill(args.dir, args.hosts, args.gpus, args.data == "changing")
    prometheus = Prometheus(args.dir, [])
    try:
        if args.url:
            prometheus.port = int(args.url.rsplit(":", 1)[1])
        else:
            prometheus.start()
        for round_ in range(args.rounds):
            for name, src in variants:
                load = _load()
                got = _run(src, prometheus.url, end, args)
                cells = " | ".join(f"{w:.2f} s / {c:.2f} s ({m:.2f})" for w, c, _, _, m in got)
                print(f"round {round_ + 1} {name} (load {load}): {cells}; up {got[0][2]}, "
                      f"GPUs {got[0][3]}", flush=True)  # fmt: skip
        if args.profile:
            _run(variants[0][1], prometheus.url, end, args, args.profile)
    finally:
        prometheus.stop()
    print("getrusage of this process:", resource.getrusage(resource.RUSAGE_SELF).ru_utime)
    asyncio.set_event_loop_policy(None)


if __name__ == "__main__":
    main()
