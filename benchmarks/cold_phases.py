"""Where the client's CPU goes until cold start: frames by kind, the collector, threads.

    PYTHONPATH=.:src .venv/bin/python -m benchmarks.cold_phases 1000 \\
        main=/work/base/src branch=src [--rounds 2]

One fake-host server for the whole run; each variant's `ct_driver` runs with its frame building
timed (thread CPU of each FrameAssembler.apply: a host's first frame, its second, the rest) and
the cyclic collector timed (gc.callbacks), all until the cold event, variants alternating.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import ct_driver
from benchmarks.fakehosts import FakeFleet
from benchmarks.harness import REPO
from benchmarks.run import record_frames
from benchmarks.ticks import emit
from clustertop.sources.ssh import assemble


def _driver() -> None:
    """ct_driver, timed; one `phases` event at the cold event."""
    frames = [[0.0, 0], [0.0, 0], [0.0, 0]]  # first, second, later: [CPU s, count]
    collector = {"s": 0.0, "start": 0.0}
    seen: dict[int, int] = {}
    cold = [False]
    apply = assemble.FrameAssembler.apply

    def timed(self: assemble.FrameAssembler, *args: Any, **kwargs: Any) -> Any:
        index = seen.get(id(self), 0)
        seen[id(self)] = index + 1
        started = time.thread_time()
        try:
            return apply(self, *args, **kwargs)
        finally:
            if not cold[0]:
                kind = frames[min(index, 2)]
                kind[0] += time.thread_time() - started
                kind[1] += 1

    def collecting(phase: str, info: dict[str, Any]) -> None:
        if cold[0]:
            return
        if phase == "start":
            collector["start"] = time.thread_time()
        else:
            collector["s"] += time.thread_time() - collector["start"]

    sink = ct_driver.Recorder.sink

    def noting(self: ct_driver.Recorder, snap: Any) -> None:
        sink(self, snap)
        if not cold[0] and self.book.cold_at is not None:
            cold[0] = True
            usage = resource.getrusage(resource.RUSAGE_SELF)
            emit(
                "phases",
                total_s=usage.ru_utime + usage.ru_stime,
                main_thread_s=time.thread_time(),
                frames=frames,
                gc_s=collector["s"],
            )

    assemble.FrameAssembler.apply = timed  # type: ignore[method-assign]
    ct_driver.Recorder.sink = noting  # type: ignore[method-assign]
    gc.callbacks.append(collecting)
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    ct_driver.main()


def _one(label: str, src: str, hosts: Path, ssh_config: Path, fleet: FakeFleet) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(Path(src).resolve())])}
    argv = [sys.executable, "-W", "ignore", "-m", "benchmarks.cold_phases", "--driver",
            "--hosts-file", str(hosts), "--ssh-config", str(ssh_config), "--interval", "2",
            "--warmup-ticks", "1", "--ticks", "2", "--cold-timeout", "120"]  # fmt: skip
    server = fleet.usage_ns()
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = f"{label}: no cold event"
    try:
        for raw in proc.stdout:
            event = json.loads(raw)
            if event["ev"] == "phases":
                (first, second, later) = event["frames"]
                line = (
                    f"{label}: cold {time.monotonic() - started:.2f} s, CPU until cold "
                    f"{event['total_s']:.2f} s (main thread {event['main_thread_s']:.2f}); "
                    f"frames first {first[0]:.2f} s ({first[1]}), second {second[0]:.2f} s "
                    f"({second[1]}), later {later[0]:.2f} s ({later[1]}); GC "
                    f"{event['gc_s']:.2f} s; server {(fleet.usage_ns() - server) / 1e9:.1f} s; "
                    f"load {os.getloadavg()[0]:.2f}"
                )
            if event["ev"] in ("window_end", "error"):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return line


def main() -> None:
    if sys.argv[1:2] == ["--driver"]:
        _driver()
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("hosts", type=int)
    parser.add_argument("variants", nargs="+", help="LABEL=SRC")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ctbench-phases-"))
    fleet = FakeFleet(Path("/tmp"), args.hosts)
    try:
        client = fleet.start(record_frames(work)[0])
        hosts = work / "hosts.txt"
        hosts.write_text("".join(h + "\n" for h in fleet.addresses))
        for round_no in range(args.rounds):
            order = args.variants if round_no % 2 == 0 else args.variants[::-1]
            for variant in order:
                label, _, src = variant.partition("=")
                print(_one(label, src, hosts, client.ssh_config, fleet), flush=True)
                time.sleep(2.0)  # the server closes the last run's sessions
    finally:
        fleet.stop()


if __name__ == "__main__":
    main()
