"""Incremental assembly: every snapshot equals a full rebuild's, and unchanged parts are reused."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Sequence

from clustertop.model import Container, Gpu, GpuProcess, HostSnapshot, Process, by_cpu_then_memory
from clustertop.sources.join import attach_gpus
from clustertop.sources.ssh.assemble import FrameAssembler, HostInfo
from clustertop.sources.ssh.container_join import ContainerJoin
from clustertop.sources.ssh.gpu_join import GpuJoin, GpuParts
from clustertop.sources.ssh.probe import parse_frame
from clustertop.sources.ssh.process_list import ProcessList
from clustertop.sources.ssh.reader import READ_LIMIT
from clustertop.sources.ssh.sections import DockerReading, ProcsReading
from clustertop.sources.ssh.slot import Slot
from tests.ssh.test_frames import DOCKER, GPU, ID, PROCS_1, PROCS_2, SYS, M, _frame, _section

NET_HEAD = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
    "drop fifo colls carrier compressed"
)
DF = (
    "Filesystem Type 1B-blocks Used Avail Use% IUsed IFree IUse% Mounted on\n"
    "/dev/vda ext4 270553174016 27311878144 81632415744 26% 471033 16306183 3% /"
)
GPU_2 = GPU.replace("GPU-1, NVIDIA H200", "GPU-1, NVIDIA \x1b[2J\x1b]0;pwned\x07H200")
HOSTILE = f"p 666 5.0 20 300 S - mallory\t\x1b[31mevil\tevil --x '{M} d 9' \x1b]52;c;aGk=\x07"


def _sys(n: int) -> str:
    return SYS.replace("MemAvailable: 400 kB", f"MemAvailable: {400 + n} kB")


def _net(n: int) -> str:
    lo = f"    lo: {1000 * n} {10 * n} 0 0 0 0 0 0 {1000 * n} {10 * n} 0 0 0 0 0 0"
    quiet = "  eth0: 5000 50 0 0 0 0 0 0 7000 70 0 0 0 0 0 0"
    evil = " e\x1bvil: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0"
    return f"{NET_HEAD}\n{lo}\n{quiet}\n{evil}"


def _dio(n: int) -> str:
    return f" 254 0 vda {2000 + n} 12 57393658 2087800 4606306 3429634 {4000 + 8 * n} 4021 0 6575 63847"


def _procs(cpu: int, *rows: str, keep: bool = False, btime: int = 1700000000) -> str:
    head = f"cpu {cpu} 0 50 {cpu * 8} 0 0 0 0\nbtime {btime}\nncpu 2"
    return "\n".join([head, *(["keep"] if keep else []), *rows])


GPU_ROW = f"p 4242 99.5 10 500 R {ID} alice\tpython\t="
# A Slurm job's process: scontrol's record, when it comes, completes its attribution (same rows).
SLURM_ROW = "p 555 1.0 10 300 S - carol\tpython\tpython job.py\na 555\t/system.slice/slurmstepd.scope/job_7/step_0"
JOB = "JobId=7 JobName=train\n   UserId=carol(1001) Partition=gpu Account=lab\n"


Step = tuple[float, list[tuple[str, str, int] | str], str]


def _steps() -> list[Step]:
    """(client time, sections, pending): data, `same`, errors, a restart, hostile text, idle."""
    steps: list[Step] = [
        (200, [("sys", _sys(1), 0), ("gpu", GPU, 0), ("docker", DOCKER, 0),
               ("procs", f"{PROCS_1}\n{HOSTILE}\n{SLURM_ROW}", 0), ("net", _net(1), 0), ("dio", _dio(1), 0),
               ("disks", DF, 0)], ""),
        (202, [("sys", _sys(2), 0), ("gpu", GPU, 0), ("procs", f"{PROCS_2}\n{SLURM_ROW}", 0), ("net", _net(2), 0),
               ("dio", _dio(1), 0)], ""),
        (204, [("sys", _sys(3), 0), ("gpu", GPU, 0), ("procs", _procs(300, GPU_ROW, keep=True), 0),
               ("net", _net(3), 0), ("dio", _dio(2), 0)], ""),
        (206, [("sys", _sys(4), 0), f"{M} same gpu 105.0", f"{M} same docker 100.0",
               ("procs", _procs(400, keep=True), 0), ("net", _net(4), 0), ("slurm", JOB, 0)], ""),
        (208, [("sys", _sys(5), 0), ("gpu", f"NVIDIA-SMI has failed\n{M} apps 9\n", 9),
               ("procs", _procs(500, keep=True), 0)], ""),
        (210, [("sys", _sys(6), 0), ("gpu", GPU, 0), ("procs", _procs(600, keep=True), 0)], ""),
        (212, [("sys", "garbage \x1b[2J", 0), ("gpu", GPU.replace("4242, 4000", "4242, 5000"), 0),
               ("procs", _procs(700, GPU_ROW, keep=True), 0), ("disks", "df: \x1b[5mnope", 1)], ""),
        (214, [("sys", _sys(8), 0), ("procs", _procs(800, keep=True), 0)], "gpu 113.0"),
        (216, [("sys", _sys(9), 0), ("gpu", GPU, 0), ("disks", DF, 0)], ""),
    ]  # fmt: skip
    # The host restarts: uptime from 5 s, a new boot time, counters from zero, hostile GPU name.
    restart = _procs(10, PROCS_2.splitlines()[-2], btime=1700099999)
    steps.append((218, [("sys", _sys(10), 0), ("gpu", GPU_2, 0), ("docker", DOCKER, 0),
                        ("procs", restart, 0), ("net", _net(1), 0), ("dio", _dio(1), 0)], ""))  # fmt: skip
    steps += [(220 + 2 * i, [("sys", _sys(11), 0), ("gpu", GPU_2, 0), ("procs", _procs(20 + i,
              keep=True), 0), ("net", _net(2 + i), 0), ("dio", _dio(2), 0)], "")
              for i in range(4)]  # fmt: skip
    # The same process rows, but the host's memory total and then its container's name change.
    more_memory = _sys(11).replace("MemTotal: 1000 kB", "MemTotal: 2000 kB")
    renamed = DOCKER.replace("/alice-train", "/alice-renamed")
    steps += [
        (226.5, [("sys", more_memory, 0), ("procs", _procs(25, keep=True), 0)], ""),
        (227, [("docker", renamed, 0), ("procs", _procs(26, keep=True), 0)], ""),
    ]
    # Cut inside a big gpu section (the rest of the frame skipped), then the same output again.
    steps.append((228, [("sys", _sys(12), 0), f"{M} b gpu\n" + "x" * (READ_LIMIT // 2)], ""))
    steps += [(230 + 2 * i, [("sys", _sys(13), 0), ("gpu", GPU_2, 0), ("procs", _procs(40 + i,
              keep=True), 0), ("net", _net(9), 0), ("dio", _dio(2), 0)], "")
              for i in range(5)]  # fmt: skip
    return steps


def _frames() -> list[tuple[float, str, bool]]:
    """(client time, frame text, cut) of every step; sections started at the frame's uptime."""
    out = []
    for seq, (now, sections, pending) in enumerate(_steps(), 1):
        uptime = now - 100 if now < 218 else now - 213
        parts = [p if isinstance(p, str) else _section(*p, started=uptime) for p in sections]
        text = _frame(seq, uptime, *parts, pending=pending)
        cut = "xxxx" in text
        out.append((float(now), text[: text.index(f"{M} d ")] if cut else text, cut))
    return out


class _FullSlot(Slot):  # type: ignore[type-arg]
    """The slot as before: every output parsed again."""

    def read_same(self, parse: Callable[[], object], name: str, data_time: float,
                  source: tuple[bytes, int | None]) -> None:  # fmt: skip
        self.read(parse, name, data_time)


class _FullGpuJoin(GpuJoin):
    def parts(self, gpu, apps, procs, containers, context) -> GpuParts:  # type: ignore[no-untyped-def]
        if gpu is None:
            return (), ()
        gpus, gpu_procs = self._join(gpu, apps, procs, containers, context)
        return tuple(gpus), tuple(gpu_procs)


class _FullContainerJoin(ContainerJoin):
    def attach(
        self,
        containers: list[Container],
        docker: DockerReading | None,
        gpus: tuple[Gpu, ...],
        gpu_procs: tuple[GpuProcess, ...],
    ) -> tuple[Container, ...]:
        requests = docker.requests if docker else {}
        return tuple(attach_gpus(containers, requests, gpus, gpu_procs))


class _FullProcessList(ProcessList):
    def build(
        self,
        procs: ProcsReading | None,
        total: int | None,
        containers: Sequence[Container],
        start_time: Callable[[int], float | None],
    ) -> tuple[Process, ...]:
        if procs is None:
            return ()
        return tuple(by_cpu_then_memory(self._rows.build(procs, total, containers, start_time)))


def _assemblers(clock: Callable[[], float]) -> tuple[FrameAssembler, FrameAssembler]:
    info = HostInfo(hz=100, page_size=4096, hostname="n1\x1b[2J")
    incremental = FrameAssembler("gpu01", M, info=info, clock=clock)
    full = FrameAssembler("gpu01", M, info=info, clock=clock)
    full._sys, full._gpu, full._disks = _FullSlot(), _FullSlot(), _FullSlot()
    full.__post_init__()  # its slots by name, the new ones included
    full._gpu_join = _FullGpuJoin(info.hz, full.rule)
    full._container_join = _FullContainerJoin()
    full._process_list = _FullProcessList(info.page_size, full.rule)
    return incremental, full


def test_every_snapshot_equals_a_full_rebuilds() -> None:
    now = [0.0]
    incremental, full = _assemblers(lambda: now[0])
    snaps: list[HostSnapshot] = []
    for when, text, cut in _frames():
        now[0] = when
        mine = incremental.apply(parse_frame(text, M), 5.0, cut)
        theirs = full.apply(parse_frame(text, M), 5.0, cut)
        assert mine == theirs, f"at {when}"
        assert repr(mine) == repr(theirs), f"at {when}"
        snaps.append(mine)
    seen = {s.gpu_error for s in snaps} | {s.system_error for s in snaps}
    assert any(e and "NVIDIA-SMI has failed" in e for e in seen)  # the sequence has its errors
    assert any(e and "over 2 MiB" in e for e in seen)
    assert any(e and "unreadable" in e for e in seen)
    assert any(s.gpus and "\x1b" in s.gpus[0].name for s in snaps)  # hostile text kept as text
    assert any(p.command.startswith("evil") for s in snaps for p in s.processes)
    assert len({p.memory_percent for s in snaps for p in s.processes if p.pid == 4242}) > 1
    assert any(p.container and "renamed" in p.container.name for s in snaps for p in s.processes)
    jobs = {(p.attribution.name, p.attribution.partition) for s in snaps for p in s.processes
            if p.pid == 555 and p.attribution}  # fmt: skip
    assert jobs == {(None, None), ("train", "gpu")}


def test_unchanged_sections_keep_their_parts() -> None:
    now = [0.0]
    incremental, _ = _assemblers(lambda: now[0])
    snaps = []
    for when, text, cut in _frames():
        now[0] = when
        snaps.append(incremental.apply(parse_frame(text, M), 5.0, cut))
    first, second = snaps[0], snaps[1]  # the same GPU output, one process changed
    assert second.gpus[0] is first.gpus[0]
    idle = snaps[-4:]  # after the cut: the same GPU output and no process re-read
    for before, after in itertools.pairwise(idle):
        assert after.gpus is before.gpus and after.gpu_processes is before.gpu_processes
        assert after.processes is before.processes and after.containers is before.containers
    # The cut dropped the reading; the same output read again joins to the parts made before it.
    cut, again = snaps[-6], snaps[-5]
    assert cut.gpus == () and cut.gpu_processes == ()
    assert again.gpus is snaps[-7].gpus and again.gpu_processes is snaps[-7].gpu_processes


def _reachable(root: object, kind: type) -> list[object]:
    """Every `kind` object that `root` holds, directly or through containers and clustertop's
    own objects (not through functions, modules or classes: they reach every other test's)."""
    seen, todo, found = {id(root)}, [root], []
    while todo:
        for ref in gc.get_referents(todo.pop()):
            if id(ref) in seen or not (
                isinstance(ref, (tuple, list, dict, set, frozenset))
                or type(ref).__module__.startswith("clustertop.")
            ):
                continue
            seen.add(id(ref))
            if type(ref) is kind:
                found.append(ref)
            todo.append(ref)
    return found


def test_a_host_keeps_one_copy_of_its_gpus() -> None:
    # The same GPU values in new output text (here wider spacing; on a real host the sampler's
    # output moves in ways the values do not), with the processes changing beside them: the
    # assembler holds the last snapshot's GPU records only. Its joins used to keep the equal
    # records of an earlier frame in their keys (a second copy: ~10 KiB a host).
    now = [0.0]
    incremental, _ = _assemblers(lambda: now[0])
    widened = GPU.replace(", 37, ", ",  37, ")
    snap = None
    for i in range(6):
        now[0] = 200.0 + 2 * i
        parts = [p if isinstance(p, str) else _section(*p, started=now[0] - 100)
                 for p in (("sys", _sys(i + 1), 0), ("gpu", widened if i % 2 else GPU, 0),
                           ("docker", DOCKER, 0), ("procs", _procs(100 * (i + 1), GPU_ROW), 0))]  # fmt: skip
        text = _frame(i + 1, now[0] - 100, *parts)
        snap = incremental.apply(parse_frame(text, M), 5.0, False)
    assert snap is not None and snap.gpus and snap.containers
    held = _reachable(incremental, Gpu)
    assert len(held) == len(snap.gpus)
    assert all(any(g is s for s in snap.gpus) for g in held)
