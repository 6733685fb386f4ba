"""The local containers section: Docker's containers and podman's, side by side."""

from __future__ import annotations

import dataclasses
import os
import pwd
import threading
import time

from clustertop.model import Container
from clustertop.model.attribution import PODMAN
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.parsers.podman import conmon_container
from clustertop.sources.local.docker import CgroupMeter, DockerReader, DockerReading
from clustertop.sources.local.podman import LIST_S, PodmanCatalog


def podman_id_from_cgroup(text: str) -> str | None:
    """The podman container id /proc/<pid>/cgroup text names, else None."""
    found = classify_cgroup(text)
    return found.id if found.kind == PODMAN else None


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(64 * 1024)
    except OSError:
        return b""


def _uid(pid: str) -> int | None:
    for line in _read(f"/proc/{pid}/status").split(b"\n"):
        if line.startswith(b"Uid:"):
            fields = line.split()
            return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
    return None


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def rootless_containers(proc: str = "/proc") -> tuple[Container, ...]:
    """Running rootless podman containers of other users, one per `conmon` they run.

    Our own `podman ps` lists neither another user's rootless containers nor (as root) any
    rootless one; each has a conmon, running as that user, whose `-c <id> -n <name>` names it.
    Only the name is taken from that command line: the owner is the user conmon runs as (a name
    prefix there is anyone's to write), so a fake conmon can only name its own user.
    """
    me = os.getuid()
    rows: dict[str, Container] = {}
    try:
        pids = [entry.name for entry in os.scandir(proc) if entry.name.isdigit()]
    except OSError:
        return ()
    for pid in pids:
        if _read(f"{proc}/{pid}/comm").strip() != b"conmon":
            continue
        uid = _uid(pid)
        if uid is None or uid in (0, me):
            continue
        argv = [a.decode("utf-8", "replace") for a in _read(f"{proc}/{pid}/cmdline").split(b"\0")]
        found = conmon_container([a for a in argv if a])
        if found is None or found[0] in rows:
            continue
        user = _user(uid)
        rows[found[0]] = Container(
            id=found[0],
            name=found[1],
            image="",
            state="running",
            status=f"rootless (user {user})",
            owner=user,
            engine="podman",
            rootless_user=user,
        )
    return tuple(rows.values())


FIRST_WAIT_S = 1.0
"""How long the first reading waits for podman's first list (later ones never wait)."""


class _PodmanLister:
    """podman's list and the rootless conmons, refreshed in a thread of their own.

    A slow `podman ps` (a loaded host, a locked store) never holds up Docker's containers: the
    docker section takes the latest list there is.
    """

    def __init__(self, podman: PodmanCatalog) -> None:
        self._podman = podman
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._latest: tuple[tuple[Container, ...], str | None] = ((), None)
        self._rootless_at = -LIST_S
        self._rootless_rows: tuple[Container, ...] = ()

    def latest(self) -> tuple[tuple[Container, ...], str | None]:
        """The newest list and error, starting a refresh when none runs."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._refresh, daemon=True)
                self._thread.start()
        self._done.wait(FIRST_WAIT_S)  # set once the first list is in: no wait after that
        return self._latest

    def _refresh(self) -> None:
        try:
            listed, error = self._podman.listing()
            ids = {c.id for c in listed}
            others = tuple(c for c in self._rootless() if c.id not in ids)
            self._latest = (listed + others, error)
        finally:
            self._done.set()

    def _rootless(self) -> tuple[Container, ...]:
        if time.monotonic() - self._rootless_at >= LIST_S:
            self._rootless_at = time.monotonic()
            self._rootless_rows = rootless_containers()
        return self._rootless_rows


class ContainersReader:
    """Docker's containers each tick, with podman's list (LIST_S old at most) appended."""

    def __init__(self, docker: DockerReader, podman: PodmanCatalog) -> None:
        self._docker = docker
        self._podman = podman
        self._lister = _PodmanLister(podman)
        self._meter = CgroupMeter(identify=podman_id_from_cgroup)

    def read(self) -> DockerReading:
        """One reading: Docker's (its error as docker_error), podman's (as podman_error)."""
        reading = self._docker.read()
        if not self._podman.installed:
            return reading  # no podman here: nothing more to do
        listed, error = self._lister.latest()
        running = {c.id: c.pid for c in listed if c.pid is not None and c.state == "running"}
        usage = self._meter.measure(running)
        measured = tuple(
            dataclasses.replace(c, cpu_percent=usage[c.id][0], memory_used=usage[c.id][1])
            if c.id in usage
            else c
            for c in listed
        )
        return dataclasses.replace(
            reading, containers=reading.containers + measured, podman_error=error
        )
