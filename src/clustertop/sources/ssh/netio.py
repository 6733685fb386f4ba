"""The probe's net, dio and ports sections to model values, with rates on the host's clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from clustertop.model.attribution import Attribution
from clustertop.model.network import DiskIo, Interface, InterfaceKind, ListeningPort, NetCounters
from clustertop.model.nfs import NfsCounters, NfsIo
from clustertop.parsers.cgroup import classify_paths
from clustertop.parsers.diskstats import parse_diskstats
from clustertop.parsers.mountstats import nfs_rates, parse_mountstats
from clustertop.parsers.netdev import interface_kind, parse_ib_port, parse_net_dev
from clustertop.parsers.rates import DiskSample, NetSample, disk_rates, interface_rates
from clustertop.parsers.sockets import PROTOCOLS, RawSocket, parse_sockets
from clustertop.sources.ssh.container_net import container_sockets
from clustertop.util.strpool import share, share_number

NOT_PERMITTED = "not permitted"
"""Note of a socket whose process the probe's user may not look at."""
NO_PROCESS = "no process found"
"""Note of a socket no process the probe could read holds."""
NOT_YET = "not looked up yet"
"""Note of a socket new since the probe last looked at the fd tables (it does so sparingly)."""


def read_ib(text: str) -> list[NetCounters]:
    """'DEVICE/PORT FILE VALUE' lines (the ib part) -> one NetCounters per port."""
    files: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            files.setdefault(parts[0], {})[parts[1]] = parts[2]
    return [parse_ib_port(name, counters) for name, counters in sorted(files.items())]


@dataclass(frozen=True, slots=True)
class Holders:
    """The holders part: socket inode -> (pid, name), and whether some fd tables were closed."""

    by_inode: Mapping[int, tuple[int, str]] = field(default_factory=dict)
    """Inodes found in fd tables the probe could read."""
    denied: bool = False
    """True when some process's fd table was not readable (another user's)."""
    later: bool = False
    """True when some sockets are newer than the probe's last look at the fd tables."""


def read_holders(text: str) -> Holders:
    """'denied N', 'INODE PID NAME' lines (NAME may hold spaces), 'later 1' when some were not
    looked up."""
    by_inode: dict[int, tuple[int, str]] = {}
    denied = later = False
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if parts[0] in {"denied", "later"} and len(parts) == 2:
            denied = denied or (parts[0] == "denied" and parts[1] not in {"", "0"})
            later = later or parts[0] == "later"
        elif len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            by_inode.setdefault(int(parts[0]), (share_number(int(parts[1])), share(parts[2])))
    return Holders(by_inode, denied, later)


def read_users(text: str) -> dict[int, str]:
    """'UID NAME' lines (the users part: names of the sockets' owners on the host)."""
    users: dict[int, str] = {}
    for line in text.splitlines():
        uid, _, name = line.partition(" ")
        if uid.isdigit() and name:
            users[int(uid)] = share(name)
    return users


def read_cgroups(text: str) -> dict[int, Attribution]:
    """'PID<TAB>PATH<TAB>...' lines (the cgroups part: what each holder belongs to, as the
    procs section's `a` lines) -> the PID's classification."""
    found: dict[int, Attribution] = {}
    for line in text.splitlines():
        pid, _, paths = line.partition("\t")
        if pid.isdigit():
            found[int(pid)] = classify_paths(share("\t" + paths))
    return found


def _note(holders: Holders) -> str:
    if holders.later:
        return NOT_YET
    return NOT_PERMITTED if holders.denied else NO_PROCESS


def _reach(sock: RawSocket) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(sock.address, sock.address)


@dataclass(frozen=True, slots=True)
class _Lookups:
    holders: Holders
    users: Mapping[int, str]
    cgroups: Mapping[int, Attribution]

    def port(self, sock: RawSocket, container: str | None, reach: str | None) -> ListeningPort:
        held = self.holders.by_inode.get(sock.inode)
        return ListeningPort(
            protocol=sock.protocol,
            address=sock.address,
            port=sock.port,
            uid=sock.uid,
            inode=sock.inode,
            user=self.users.get(sock.uid) or share(str(sock.uid)),
            pid=held[0] if held else None,
            process=held[1] if held else None,
            container=container,
            reach_address=reach,
            note=None if held else _note(self.holders),
            attribution=self.cgroups.get(held[0]) if held else None,
        )


def read_ports(parts: Mapping[str, str]) -> tuple[ListeningPort, ...]:
    """The ports section: one part per protocol (and per container namespace, PROTO@ID, whose
    `container` is the container's id until named), then holders, users, holders' cgroups."""
    look = _Lookups(
        read_holders(parts.get("holders", "")),
        read_users(parts.get("users", "")),
        read_cgroups(parts.get("cgroups", "")),
    )
    found = [sock for proto in PROTOCOLS for sock in parse_sockets(proto, parts.get(proto, ""))]
    ports = [look.port(sock, None, _reach(sock)) for sock in found]
    ports += [look.port(sock, cid, reach) for sock, cid, reach in container_sockets(parts)]
    return tuple(sorted(ports, key=lambda p: (p.container or "", p.port, p.protocol, p.address)))


@dataclass(slots=True)
class NetioRates:
    """The previous net and dio readings of one host, for rates between frames."""

    net: NetSample | None = None
    """Last interfaces reading."""
    dio: DiskSample | None = None
    """Last block-device reading."""
    boot: str = ""
    """Identity of the host's boot: uptime going back means it rebooted."""
    last_uptime: float = -1.0
    nfs: tuple[NfsIo, ...] = ()
    """NFS mounts with rates, from the last dio section."""
    nfs_sample: tuple[float, tuple[NfsCounters, ...]] | None = None
    """Their counters then (host uptime, counters)."""

    def _boot(self, uptime: float) -> str:
        if uptime < self.last_uptime:
            self.boot = f"after {self.last_uptime:.0f}"  # counters restarted with the host
        self.last_uptime = uptime
        return self.boot

    def interfaces(self, parts: Mapping[str, str], uptime: float) -> tuple[Interface, ...]:
        """The net section: /proc/net/dev, then the ib part; rates since the last one."""
        counters = [*parse_net_dev(parts.get("", "")), *read_ib(parts.get("ib", ""))]
        ib = {c.name for c in read_ib(parts.get("ib", ""))}
        kinds = {
            c.name: InterfaceKind.INFINIBAND if c.name in ib else interface_kind(c.name)
            for c in counters
        }
        sample = NetSample(uptime, tuple(counters), self._boot(uptime))
        rows = interface_rates(self.net, sample, kinds)
        self.net = sample
        return rows

    def read_dio(self, parts: Mapping[str, str], uptime: float) -> tuple[DiskIo, ...]:
        """The dio section: devices (dm-N with their mapper names), and the NFS mounts' I/O
        kept in `nfs`."""
        names = dict(line.split(" ", 1) for line in parts.get("dm", "").splitlines() if " " in line)
        devices = tuple(
            dataclasses.replace(d, mapper=names[d.name]) if d.name in names else d
            for d in self.devices(parts.get("", ""), uptime)
        )
        try:
            sample = (uptime, parse_mountstats(parts.get("nfs", "")))
        except ValueError:
            sample = (uptime, ())
        if self.nfs_sample is not None and self.nfs_sample[0] > uptime:
            self.nfs_sample = None  # rebooted
        self.nfs = nfs_rates(self.nfs_sample, sample)
        self.nfs_sample = sample
        return devices

    def devices(self, body: str, uptime: float) -> tuple[DiskIo, ...]:
        """The dio section: /proc/diskstats; rates since the last one."""
        sample = DiskSample(uptime, parse_diskstats(body), self._boot(uptime))
        rows = disk_rates(self.dio, sample)
        self.dio = sample
        return rows
