"""The SSH source's main-thread CPU per frame, offline: recorded probe frames parsed and assembled.

Record once (the idle fleet, 10 hosts; every frame a session assembles, as JSON lines):

    PYTHONPATH=src:. python -m benchmarks.idle_cost --no-htop --windows 1 --seconds 60 \
        --record-frames /tmp/frames.jsonl

then replay them through `parse_frame` and `FrameAssembler.apply` (one assembler per host, its
clock the recorded one), in CPU time, best of `--repeat` passes:

    PYTHONPATH=src:. python -m benchmarks.assemble_replay /tmp/frames.jsonl

Run it with another tree's src on PYTHONPATH to compare (alternate the trees: the machine's
load still moves CPU time a little). `--cprofile FILE` writes one pass's profile.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clustertop.model import HostSnapshot
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.probe import parse_frame


def load(path: Path) -> list[dict[str, Any]]:
    """The recorded frames: name, marker, info [hz, page size, hostname], t, text, latency, cut."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class _Clock:
    """The recorded client time of the frame being assembled."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def replay(frames: list[dict[str, Any]]) -> Iterator[HostSnapshot]:
    """Every frame's snapshot, each host with its own assembler (a new one on a new marker)."""
    clock = _Clock()
    hosts: dict[str, FrameAssembler] = {}
    for rec in frames:
        asm = hosts.get(rec["name"])
        if asm is None or asm.marker != rec["marker"]:
            hz, page, hostname = rec["info"]
            info = HostInfo(hz=hz, page_size=page, hostname=hostname)
            asm = hosts[rec["name"]] = FrameAssembler(
                rec["name"], rec["marker"], info=info, clock=clock
            )
        clock.now = rec["t"]
        yield asm.apply(parse_frame(rec["text"], rec["marker"]), rec["latency"], rec["cut"])


def one_pass(frames: list[dict[str, Any]]) -> float:
    """CPU seconds to parse and assemble every frame once."""
    start = time.thread_time()
    for _ in replay(frames):
        pass
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recording", type=Path, help="frames recorded by idle_cost --record-frames")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cprofile", type=Path, help="write one pass's cProfile stats here")
    args = parser.parse_args()
    frames = load(args.recording)
    one_pass(frames)  # warm: imports, memos
    best = min(one_pass(frames) for _ in range(args.repeat))
    print(f"{len(frames)} frames: {best * 1e3 / len(frames):.3f} ms CPU per frame (best of "
          f"{args.repeat}, parse + assemble)")  # fmt: skip
    if args.cprofile:
        profile = cProfile.Profile(time.thread_time)
        profile.runcall(one_pass, frames)
        profile.dump_stats(args.cprofile)


if __name__ == "__main__":
    main()
