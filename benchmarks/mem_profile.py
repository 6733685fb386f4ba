"""Where the SSH client's memory goes: tracemalloc over SshSource + history on the fake-host fleet.

    .venv/bin/python -m benchmarks.mem_profile --hosts 1000 --ticks 10

Records a real probe run, serves it from `N` fake hosts (`fakehosts.FakeFleet`), runs clustertop's
`SshSource` with the driver's recorder (history kept as the UI keeps it) in this process until
every host has data and `--ticks` more ticks passed, then prints RSS and the top allocators by
line and by file (`--no-trace`: RSS only, as the benchmark's client measures it), glibc's heap
account, an object census by type, and what one host holds that another does not, by attribute
path. `--frames` replays saved frames (`--save-frames`): the recording's ports section lists
the machine's listening sockets, which other fleets inflate. Needs root (the fleet's CPU
group), like the rest of the fake-host benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import ctypes
import gc
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import types
from pathlib import Path

from benchmarks.ct_driver import Recorder, cancel_hard
from benchmarks.fakehosts import FakeFleet
from benchmarks.frames import FrameSet
from benchmarks.run import record_frames
from benchmarks.ticks import TickBook, Window, raise_open_file_limit, status_kib
from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.connect import SshSettings
from clustertop.sources.ssh.probe import parse_frame
from clustertop.sources.ssh.source import SshSource


async def drive(
    hosts: list[str], ssh_config: Path, ticks: int, interval: float, cold_limit: float
) -> Recorder:
    """Run the source until every host had data, then `ticks` more intervals."""
    book = TickBook(hosts, Window(), interval)
    recorder = Recorder(book)
    settings = SshSettings(config_paths=(ssh_config,))
    source = SshSource([parse_host_spec(h) for h in hosts], settings, interval=interval)
    task = asyncio.create_task(source.run(recorder.sink))
    started = time.monotonic()
    try:
        while sum(1 for s in recorder.latest.values() if s.is_up) < len(hosts):
            if task.done():
                raise RuntimeError(f"source stopped: {recorder.summary()}")
            if time.monotonic() - started > cold_limit:  # a loaded machine: measure what is up
                print(f"cold start incomplete after {cold_limit:g} s: {recorder.summary()}")
                break
            await asyncio.sleep(0.2)
        print(f"cold start {time.monotonic() - started:.1f} s, rss {status_kib('VmRSS')} kB")
        await asyncio.sleep(ticks * interval)
        gc.collect()
        report(recorder)
        sessions = list(source.sessions.values())
        if len(sessions) >= 2:
            per_host(sessions[0], sessions[1], recorder.history)
    finally:
        await cancel_hard(task)
        await source.aclose()
    return recorder


def offline(frames_path: Path, hosts: int, ticks: int, interval: float) -> None:
    """The same frames applied straight to N assemblers + history, no SSH: the parse side only."""
    frames = FrameSet.load(frames_path)
    words = frames.ready.split()
    info = HostInfo(hz=int(words[2]), page_size=int(words[3]), hostname=" ".join(words[4:]))
    book = TickBook([f"h{i}" for i in range(hosts)], Window(), interval)
    recorder = Recorder(book)
    marker = "@memprofile"
    assemblers = [FrameAssembler(f"h{i}", marker, info, interval=interval) for i in range(hosts)]
    now = 1000.0
    for sent in range(ticks + len(frames.first)):
        now += interval
        for index, assembler in enumerate(assemblers):
            text = frames.frame(sent, index).render(marker, sent + 1, now)
            snap = assembler.apply(parse_frame(text, marker), 5.0, False)
            recorder.sink(snap)
    gc.collect()
    report(recorder)
    per_host(assemblers[0], assemblers[1], recorder.history)


def report(recorder: Recorder) -> None:
    """RSS, and tracemalloc's top lines and files."""
    rss, hwm, threads = (status_kib(f) for f in ("VmRSS", "VmHWM", "Threads"))
    print(f"rss {rss} kB, hwm {hwm} kB, threads {threads}")
    mappings()
    pymalloc()
    glibc_heap()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print(f"after malloc_trim: rss {status_kib('VmRSS')} kB")
    census()
    if not tracemalloc.is_tracing():
        return
    snap = tracemalloc.take_snapshot()
    total = sum(s.size for s in snap.statistics("filename"))
    print(f"traced {total / 1e6:.1f} MB")
    for kind, count in (("filename", 25), ("lineno", 60)):
        print(f"--- top by {kind}")
        for stat in snap.statistics(kind)[:count]:
            frame = stat.traceback[0]
            name = "/".join(Path(frame.filename).parts[-3:])
            print(f"{stat.size / 1e6:8.2f} MB {stat.count:9d}  {name}:{frame.lineno}")
    print("--- top by line and the clustertop line that led to it")
    for (where, caller), (size, count) in by_caller(snap)[:40]:
        print(f"{size / 1e6:8.2f} MB {count:9d}  {where}  <- {caller}")


def census(count: int = 40) -> None:
    """Objects the collector tracks, by type: how many and their own sizes (no contents)."""
    totals: dict[str, list[int]] = {}
    dicts: dict[str, list[int]] = {}
    for obj in gc.get_objects():
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        row = totals.setdefault(name, [0, 0])
        row[0] += 1
        row[1] += sys.getsizeof(obj)
        own = getattr(obj, "__dict__", None) if not isinstance(obj, type) else None
        if isinstance(own, dict):
            row = dicts.setdefault(name, [0, 0])
            row[0] += 1
            row[1] += sys.getsizeof(own)
    for title, table in (("objects by type", totals), ("instance __dict__s by type", dicts)):
        print(f"--- {title} (gc-tracked, own size)")
        for name, (number, size) in sorted(table.items(), key=lambda kv: -kv[1][1])[:count]:
            print(f"{size / 1e6:8.2f} MB {number:9d}  {name}")


_SKIP = (
    type,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.CodeType,
    asyncio.AbstractEventLoop,
    concurrent.futures.Executor,
)


def _reach(root: object, stop: set[int]) -> dict[int, tuple[object, str]]:
    """Objects reachable from `root` (not through modules, classes, functions or `stop`), each
    with the path of attribute names by which it was first reached."""
    seen: dict[int, tuple[object, str]] = {id(root): (root, "")}
    todo = [root]
    while todo:
        obj = todo.pop()
        path = seen[id(obj)][1]
        names = getattr(obj, "__dict__", None)
        for ref in gc.get_referents(obj):
            if id(ref) in seen or id(ref) in stop or isinstance(ref, _SKIP):
                continue
            label = path
            if isinstance(names, dict) and ref is names:
                label = f"{path}.{type(obj).__name__}"
            elif isinstance(obj, dict) and path.count(".") < 7:
                key = next((k for k, v in obj.items() if v is ref), None)
                if isinstance(key, str):
                    label = f"{path}.{key}"
            elif hasattr(type(obj), "__slots__") and path.count(".") < 7:
                key = next(
                    (
                        n
                        for n in getattr(type(obj), "__slots__", ())
                        if getattr(obj, n, None) is ref
                    ),
                    None,
                )
                if key:
                    label = f"{path}.{key}"
            seen[id(ref)] = (ref, label)
            todo.append(ref)
    return seen


def per_host(
    first: object, second: object, history: object, count: int = 70, depth: int = 7
) -> None:
    """What one host's session holds that another's does not (its own memory), by path."""
    other = _reach(second, set())
    shared = {key for key in other if key != id(second)}
    mine = _reach(first, shared)
    name = getattr(first, "name", None) or getattr(first, "host", "")
    mine.update(_reach(getattr(history, "_hosts", {}).get(name), shared))
    totals: dict[str, int] = {}
    for obj, path in mine.values():
        key = ".".join(path.split(".")[:depth])
        totals[key] = totals.get(key, 0) + sys.getsizeof(obj)
    print(f"--- one host's own objects: {sum(totals.values()) / 1e3:.1f} kB (shallow sizes)")
    for key, size in sorted(totals.items(), key=lambda kv: -kv[1])[:count]:
        print(f"{size / 1e3:8.1f} kB  {key or '(session)'}")


def by_caller(snap: tracemalloc.Snapshot) -> list[tuple[tuple[str, str], tuple[int, int]]]:
    """Allocations grouped by their line and the innermost clustertop frame above it."""
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for stat in snap.statistics("traceback"):
        frames = list(reversed(stat.traceback))  # most recent call first
        where = f"{'/'.join(Path(frames[0].filename).parts[-2:])}:{frames[0].lineno}"
        caller = next(
            (
                f"{'/'.join(Path(f.filename).parts[-2:])}:{f.lineno}"
                for f in frames[1:]
                if "clustertop" in f.filename
            ),
            "-",
        )
        size, count = totals.get((where, caller), (0, 0))
        totals[(where, caller)] = (size + stat.size, count + stat.count)
    return sorted(totals.items(), key=lambda kv: -kv[1][0])


def pymalloc() -> None:
    """pymalloc's own account: arenas held vs bytes in live blocks (stderr of _debugmallocstats)."""
    with tempfile.TemporaryFile("w+") as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        for line in out.read().splitlines():
            if line.startswith(
                (
                    "# arenas allocated current",
                    "# bytes in allocated blocks",
                    "# bytes in available blocks",
                    "Total",
                    "# bytes lost to",
                )
            ):
                print("pymalloc", line)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
            "fordblks", "keepcost",
        )
    ]  # fmt: skip


def glibc_heap() -> None:
    """glibc's account over all arenas: bytes in use against bytes held free (fragmentation)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    print(
        f"glibc: arenas {info.arena / 1e6:.1f} MB, in use {info.uordblks / 1e6:.1f} MB, "
        f"free {info.fordblks / 1e6:.1f} MB in {info.ordblks} chunks, "
        f"mmapped {info.hblkhd / 1e6:.1f} MB in {info.hblks}"
    )


def mappings(count: int = 12) -> None:
    """The largest mappings by resident size (heap, thread arenas, pymalloc arenas, libraries)."""
    rows: list[tuple[int, str]] = []
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(maxsplit=5)
        if "-" in first[0] and not first[0].endswith(":"):
            name = line
        elif first[0] == "Rss:":
            rows.append((int(first[1]), name))
    rows.sort(reverse=True)
    small = sum(kb for kb, _ in rows if kb < 1024)
    print(f"mappings: {len(rows)}, under 1 MB resident: {small} kB in all")
    for kb, what in rows[:count]:
        print(f"{kb:8d} kB  {what[:120]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--cold-limit", type=float, default=240.0, help="s to wait for every host")
    parser.add_argument("--depth", type=int, default=8, help="frames kept per allocation")
    parser.add_argument("--offline", metavar="FRAMES", help="a saved FrameSet: parse side only")
    parser.add_argument("--save-frames", metavar="PATH", help="keep the recorded FrameSet")
    parser.add_argument(
        "--frames", metavar="PATH", help="replay a saved FrameSet instead of recording one"
    )
    args = parser.parse_args()
    if args.offline:
        print(f"before the source: rss {status_kib('VmRSS')} kB")
        if not args.no_trace:
            tracemalloc.start(args.depth)
        offline(Path(args.offline), args.hosts, args.ticks, args.interval)
        return
    work = Path(tempfile.mkdtemp(prefix="ctbench-mem-"))
    fleet = FakeFleet(Path("/tmp"), args.hosts)
    try:
        problem = raise_open_file_limit(args.hosts)
        if problem:
            raise SystemExit(problem)
        frames = Path(args.frames) if args.frames else record_frames(work)[0]
        if args.save_frames:
            shutil.copyfile(frames, args.save_frames)
        client = fleet.start(frames)
        print(f"before the source: rss {status_kib('VmRSS')} kB")
        if not args.no_trace:
            tracemalloc.start(args.depth)
        asyncio.run(
            drive(fleet.addresses, client.ssh_config, args.ticks, args.interval, args.cold_limit)
        )
    finally:
        fleet.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
