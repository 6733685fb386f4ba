"""The local top-like process list and per-PID facts (user, command, container), from psutil."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import psutil

from clustertop.model import ContainerRef, Process
from clustertop.model.attribution import DOCKER, Attribution
from clustertop.parsers.procfs import cap_args, container_id_from_cgroup
from clustertop.sources.join import Identity
from clustertop.sources.local.attribution import attribution_of

TOP_N = 25
"""How many processes the list keeps by CPU and, separately, by resident memory."""

# Read for every process each tick; the user and the name (which may mean reading cmdline)
# only for the few that make the list.
_ATTRS = ["cpu_times", "memory_info"]


@dataclass(frozen=True, slots=True)
class PidInfo:
    """What a GPU process row needs to know about a host PID."""

    user: str | None
    """Unix user (or the numeric uid when it has no passwd entry)."""
    command: str | None
    """Command line, or the name in brackets when unreadable."""
    start_time: float | None
    """Unix time the process started."""
    container_id: str | None
    """Full ID of the Docker container it runs in."""
    attribution: Attribution | None = None
    """Its cgroup's classification (owner not resolved yet, except a Slurm job's user)."""


@dataclass(frozen=True, slots=True)
class ProcessReading:
    """The processes section of one local snapshot."""

    processes: tuple[Process, ...] = ()
    """Top processes by CPU and by memory; container names still empty."""
    cpu_percent: Mapping[Identity, float] = field(default_factory=dict)
    """CPU % per core of every process seen twice, by identity."""
    error: str | None = None
    """Why processes could not be read."""


def container_id_of(pid: int) -> str | None:
    """The Docker container a PID runs in, from /proc/<pid>/cgroup (None: not in one)."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as cgroup:
            return container_id_from_cgroup(cgroup.read())
    except OSError:
        return None


def decoded(text: str | None) -> str | None:
    """Text psutil read from /proc, as UTF-8 with U+FFFD for what is not UTF-8.

    psutil keeps undecodable bytes as lone surrogates (surrogateescape); those crash a strict
    UTF-8 stdout and, written back out, become raw bytes such as 0x9B (an 8-bit CSI).
    """
    if text is None or text.isascii():
        return text
    return os.fsencode(text).decode("utf-8", "replace")


def command_of(proc: psutil.Process, name: str | None) -> str:
    """The joined argv (capped: ARGS_LIMIT); `[name]` for kernel threads, zombies or an
    unreadable cmdline."""
    try:
        argv = proc.cmdline()
    except (psutil.AccessDenied, psutil.ZombieProcess):
        argv = []
    if argv:
        return cap_args(decoded(" ".join(argv)) or "")
    return f"[{decoded(name) or proc.pid}]"


def describe_pid(pid: int) -> PidInfo | None:
    """User, command, start time and container of one PID; None when it is gone."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            info = proc.as_dict(attrs=["username", "name"], ad_value=None)
            command = command_of(proc, info["name"])
        user = decoded(info["username"])
        found = attribution_of(pid)
        return PidInfo(user, command, proc.create_time(), docker_id(found), found)
    except psutil.NoSuchProcess:
        return None


def docker_id(found: Attribution | None) -> str | None:
    """The Docker container id a classification names (docker kind only)."""
    return found.id if found is not None and found.kind == DOCKER else None


@dataclass(slots=True)
class _Row:
    """One process as seen this tick, before the top ones are described in full."""

    proc: psutil.Process
    identity: Identity
    cpu: float | None
    rss: int | None


def _top(rows: list[_Row], key: Callable[[_Row], float | int | None], count: int) -> list[_Row]:
    return sorted(rows, key=lambda row: -1.0 if (v := key(row)) is None else v)[-count:]


class ProcessTable:
    """Keeps psutil.Process objects and CPU times across ticks, keyed by process identity."""

    def __init__(self, top_n: int = TOP_N) -> None:
        self._top_n = top_n
        self._procs: dict[int, psutil.Process] = {}
        self._cpu_times: dict[Identity, tuple[float, float]] = {}
        self._attributions: dict[Identity, Attribution | None] = {}

    def read(self, memory_total: int | None) -> ProcessReading:
        """One reading of all processes; only the top ones are described in full."""
        now = time.monotonic()
        rows = [row for pid in psutil.pids() if (row := self._row(pid, now)) is not None]
        self._forget({row.identity for row in rows})
        chosen = {row.identity: row for row in _top(rows, lambda r: r.cpu, self._top_n)}
        chosen.update({row.identity: row for row in _top(rows, lambda r: r.rss, self._top_n)})
        processes = [self._process(row, memory_total) for row in chosen.values()]
        cpu = {row.identity: row.cpu for row in rows if row.cpu is not None}
        return ProcessReading(tuple(p for p in processes if p is not None), cpu)

    def _cached(self, pid: int) -> psutil.Process | None:
        proc = self._procs.get(pid)
        # is_running() compares create_time, so a reused PID gets a fresh object.
        if proc is not None and proc.is_running():
            return proc
        try:
            proc = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return None
        self._procs[pid] = proc
        return proc

    def _row(self, pid: int, now: float) -> _Row | None:
        proc = self._cached(pid)
        if proc is None:
            return None
        try:
            info = proc.as_dict(attrs=_ATTRS, ad_value=None)
            identity = (pid, proc.create_time())
        except psutil.NoSuchProcess:
            return None
        times = info["cpu_times"]
        cpu = None
        if times is not None:
            used = times.user + times.system
            previous = self._cpu_times.get(identity)
            self._cpu_times[identity] = (used, now)
            if previous is not None and now > previous[1]:
                cpu = max(0.0, 100.0 * (used - previous[0]) / (now - previous[1]))
        rss = info["memory_info"].rss if info["memory_info"] is not None else None
        return _Row(proc, identity, cpu, rss)

    def _forget(self, alive: Iterable[Identity]) -> None:
        alive = set(alive)
        pids = {pid for pid, _ in alive}
        self._procs = {pid: p for pid, p in self._procs.items() if pid in pids}
        self._cpu_times = {k: v for k, v in self._cpu_times.items() if k in alive}
        self._attributions = {k: v for k, v in self._attributions.items() if k in alive}

    def _process(self, row: _Row, memory_total: int | None) -> Process | None:
        pid, start = row.identity
        try:
            with row.proc.oneshot():
                info = row.proc.as_dict(attrs=["username", "name"], ad_value=None)
                command = command_of(row.proc, info["name"])
        except psutil.NoSuchProcess:
            return None
        if row.identity not in self._attributions:
            # A process rarely changes cgroup (never container or job), so its cgroup file is
            # read once, and only for the processes that make the list.
            self._attributions[row.identity] = attribution_of(pid)
        found = self._attributions[row.identity]
        container_id = docker_id(found)
        rss = row.rss
        return Process(
            pid=pid,
            user=decoded(info["username"]),
            cpu_percent=row.cpu,
            memory_percent=100.0 * rss / memory_total if rss is not None and memory_total else None,
            memory_rss=rss,
            start_time=start,
            command=command,
            container=ContainerRef(container_id, "") if container_id else None,
            attribution=found,
        )
