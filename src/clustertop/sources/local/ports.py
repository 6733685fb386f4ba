"""Local listening sockets with the processes holding them, host and container namespaces."""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from clustertop.model import Container
from clustertop.model.attribution import Attribution
from clustertop.model.network import ListeningPort
from clustertop.parsers.sockets import PROTOCOLS, RawSocket, local_ipv4_addresses, parse_sockets
from clustertop.parsers.sockets import socket_inode as inode_of_link
from clustertop.sources.local.attribution import attribution_of

NOT_PERMITTED = "not permitted"
"""Note of a socket whose process could not be looked at (another user's, not root)."""
NO_PROCESS = "no process found"
"""Note of a socket no readable process holds (it closed meanwhile, or the kernel holds it)."""
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


@dataclass(frozen=True, slots=True)
class PortReading:
    """The ports section of one local snapshot."""

    ports: tuple[ListeningPort, ...] = ()
    """Listening sockets of the host and of running containers."""
    error: str | None = None
    """Why sockets could not be read, or which namespaces could not."""


@dataclass(slots=True)
class Holders:
    """Socket inode -> (pid, process name), and whether some processes were unreadable."""

    by_inode: dict[int, tuple[int, str]] = field(default_factory=dict)
    """Inodes seen in readable fd tables."""
    denied: bool = False
    """True when an fd table could not be read (another user's process, not root)."""


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()


def _holders_of(pid: str, wanted: set[int], holders: Holders) -> None:
    fd_dir = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(fd_dir)
    except PermissionError:
        holders.denied = True
        return
    except OSError:
        return  # exited meanwhile
    for fd in fds:
        try:
            inode = inode_of_link(os.readlink(f"{fd_dir}/{fd}"))
        except PermissionError:
            # Even root may list but not read the links (a process of another user namespace).
            holders.denied = True
            return
        except OSError:
            continue
        if inode in wanted and inode not in holders.by_inode:
            try:
                name = _read(f"/proc/{pid}/comm").strip()
            except OSError:
                name = "?"
            holders.by_inode[inode] = (int(pid), name)


def find_holders(wanted: set[int], proc: str = "/proc") -> Holders:
    """Which processes hold the wanted socket inodes (walks every readable /proc/<pid>/fd)."""
    holders = Holders()
    for pid in os.listdir(proc):
        if pid.isdigit():
            _holders_of(pid, wanted, holders)
        if wanted.issubset(holders.by_inode):
            break
    return holders


def user_name(uid: int) -> str:
    """The passwd name of a uid, or the number when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _sockets(proc_net: str) -> tuple[list[RawSocket], list[str]]:
    found: list[RawSocket] = []
    problems: list[str] = []
    for protocol in PROTOCOLS:
        try:
            found.extend(parse_sockets(protocol, _read(f"{proc_net}/{protocol}")))
        except FileNotFoundError:
            continue  # no IPv6 in this kernel
        except (OSError, ValueError) as exc:
            problems.append(f"{proc_net}/{protocol}: {exc}")
    return found, problems


@dataclass(frozen=True, slots=True)
class Namespace:
    """One network namespace to list: where its /proc/net is and whose it is."""

    proc_net: str
    """Its /proc/<pid>/net directory."""
    container: str | None = None
    """Container name (None: the host)."""


def namespaces(containers: Iterable[Container]) -> list[Namespace]:
    """The host's namespace and each running container's own one (host-network ones share ours)."""
    result = [Namespace("/proc/self/net")]
    seen = {_ns_id("self")}
    for container in containers:
        if container.state != "running" or container.pid is None:
            continue
        ns = _ns_id(str(container.pid))
        if ns is not None and ns not in seen:
            seen.add(ns)
            result.append(Namespace(f"/proc/{container.pid}/net", container.name))
    return result


def _ns_id(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def _reach(sock: RawSocket, ns: Namespace) -> str | None:
    if ns.container is None:
        return _WILDCARDS.get(sock.address, sock.address)
    if sock.address not in _WILDCARDS:
        return None if sock.address.startswith("127.") or sock.address == "::1" else sock.address
    try:
        addresses = local_ipv4_addresses(_read(f"{ns.proc_net}/fib_trie"))
    except OSError:
        return None
    return addresses[0] if addresses else None


class PortReader:
    """Lists listening sockets each tick; `containers` gives the latest known containers."""

    def __init__(self, containers: Callable[[], Iterable[Container]] = tuple) -> None:
        self._containers = containers
        self._holders = Holders()
        self._cgroups: dict[int, Attribution | None] = {}

    def _port(self, sock: RawSocket, ns: Namespace, holders: Holders) -> ListeningPort:
        held = holders.by_inode.get(sock.inode)
        note = None if held else (NOT_PERMITTED if holders.denied else NO_PROCESS)
        return ListeningPort(
            protocol=sock.protocol,
            address=sock.address,
            port=sock.port,
            uid=sock.uid,
            inode=sock.inode,
            user=user_name(sock.uid),
            pid=held[0] if held else None,
            process=held[1] if held else None,
            container=ns.container,
            reach_address=_reach(sock, ns),
            note=note,
            attribution=self._cgroups.get(held[0]) if held else None,
        )

    def read(self) -> PortReading:
        """Every namespace's listening sockets, each with its holding process where readable."""
        found: list[tuple[RawSocket, Namespace]] = []
        problems: list[str] = []
        for ns in namespaces(self._containers()):
            sockets, errors = _sockets(ns.proc_net)
            found.extend((sock, ns) for sock in sockets)
            problems.extend(errors)
        wanted = {sock.inode for sock, _ in found}
        # Re-walk every fd table only when a socket appeared whose holder is unknown.
        if not wanted.issubset(self._holders.by_inode):
            self._holders = find_holders(wanted)
            # What each holder belongs to, read with its fd table (a PID keeps its cgroup).
            pids = {pid for pid, _ in self._holders.by_inode.values()}
            self._cgroups = {pid: attribution_of(pid) for pid in pids}
        ports = sorted(
            (self._port(sock, ns, self._holders) for sock, ns in found),
            key=lambda p: (p.container or "", p.port, p.protocol, p.address),
        )
        return PortReading(tuple(ports), "; ".join(problems) or None)
