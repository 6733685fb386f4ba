"""Network interfaces, block-device I/O and listening ports of one host."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from clustertop.model.attribution import Attribution

_PARTITION = re.compile(r"^(.*?)(p?\d+)$")


class InterfaceKind(str, Enum):
    """How an interface is grouped: only physical ones count in the grid's total."""

    PHYSICAL = "physical"
    """A NIC (or a bond/VLAN on one): traffic that leaves the host."""
    INFINIBAND = "infiniband"
    """An InfiniBand port (/sys/class/infiniband)."""
    LOOPBACK = "loopback"
    """lo: traffic that never leaves the host."""
    VIRTUAL = "virtual"
    """Container veths, bridges, tunnels: counted apart, since they double the NIC's traffic."""
    CONTAINER = "container"
    """One container's own traffic: every interface of its network namespace but lo, summed."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class NetCounters:
    """Cumulative counters of one interface as the kernel reports them."""

    name: str
    """Interface name (eth0, or mlx5_0/1 for an InfiniBand port)."""
    rx_bytes: int
    """Bytes received."""
    rx_packets: int
    """Packets received."""
    rx_errors: int
    """Receive errors."""
    rx_drops: int
    """Received packets dropped."""
    tx_bytes: int
    """Bytes sent."""
    tx_packets: int
    """Packets sent."""
    tx_errors: int
    """Send errors."""
    tx_drops: int
    """Sent packets dropped."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One interface: its counters and its rates over the last interval."""

    counters: NetCounters
    """Cumulative counters at the snapshot."""
    kind: InterfaceKind
    """Group it is shown and summed in."""
    rx_rate: float | None = None
    """Bytes received per second; None on the first reading or after a counter reset."""
    tx_rate: float | None = None
    """Bytes sent per second; None on the first reading or after a counter reset."""

    @property
    def name(self) -> str:
        """Interface name."""
        return self.counters.name


@dataclass(frozen=True, slots=True)
class DiskCounters:
    """Cumulative counters of one block device from /proc/diskstats."""

    name: str
    """Kernel device name (sda, nvme0n1p2, dm-0)."""
    reads: int
    """Reads completed."""
    read_sectors: int
    """512-byte sectors read."""
    writes: int
    """Writes completed."""
    write_sectors: int
    """512-byte sectors written."""
    busy_ms: int
    """Milliseconds the device had I/O in flight (field 10)."""


@dataclass(frozen=True, slots=True)
class DiskIo:
    """One block device's I/O over the last interval."""

    counters: DiskCounters
    """Cumulative counters at the snapshot."""
    read_rate: float | None = None
    """Bytes read per second."""
    write_rate: float | None = None
    """Bytes written per second."""
    read_iops: float | None = None
    """Reads completed per second."""
    write_iops: float | None = None
    """Writes completed per second."""
    busy_percent: float | None = None
    """Share of the interval with I/O in flight, 0-100 (%util in iostat)."""
    mapper: str | None = None
    """A device-mapper device's /dev/mapper name (vg-root for dm-0); None for other devices."""

    @property
    def name(self) -> str:
        """Kernel device name."""
        return self.counters.name


@dataclass(frozen=True, slots=True)
class ListeningPort:
    """One listening TCP socket or unconnected UDP socket, as `ss -ltnup` lists it."""

    protocol: str
    """tcp, tcp6, udp or udp6."""
    address: str
    """Local address (0.0.0.0 and :: for all)."""
    port: int
    """Local port."""
    uid: int
    """Owner uid of the socket."""
    inode: int
    """Socket inode (links it to the processes holding it)."""
    user: str | None = None
    """Unix user of the socket (name when known)."""
    pid: int | None = None
    """A process holding the socket (None when unknown or not permitted)."""
    process: str | None = None
    """That process's name."""
    container: str | None = None
    """Name of the container whose network namespace holds the socket (None: the host's)."""
    reach_address: str | None = None
    """Address that reaches the socket from the host (the container's IP for a container)."""
    note: str | None = None
    """Why the process is not shown ("not permitted", "no process found")."""
    owner: str | None = None
    """The holding process's owner by the one owner rule (None: no process, or none named)."""
    attribution: Attribution | None = None
    """What the holding process belongs to (container, pod, Slurm job, session); None when
    no process is known or its cgroup was not readable."""


OFF_HOST_KINDS = frozenset({InterfaceKind.PHYSICAL, InterfaceKind.INFINIBAND})
"""Kinds whose traffic leaves the host: the grid's network column sums these."""


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def off_host_rates(interfaces: tuple[Interface, ...]) -> tuple[float | None, float | None]:
    """Total (receive, send) bytes per second of the physical and InfiniBand interfaces.

    None when no such interface has a rate yet (first reading, or none exists).
    """
    chosen = [i for i in interfaces if i.kind in OFF_HOST_KINDS]
    return _sum([i.rx_rate for i in chosen]), _sum([i.tx_rate for i in chosen])


def whole_devices(names: Iterable[str]) -> set[str]:
    """Names that are not a partition of another listed device (sda1 of sda, nvme0n1p2 of
    nvme0n1): a partition's I/O is its disk's too, so totals and alerts count disks only."""
    listed = set(names)
    whole: set[str] = set()
    for name in listed:
        match = _PARTITION.match(name)
        parent = match.group(1) if match else ""
        if not (parent and parent in listed):
            whole.add(name)
    return whole


def disk_totals(devices: tuple[DiskIo, ...]) -> tuple[float | None, float | None, float | None]:
    """(read bytes/s, write bytes/s, busiest %) over the whole devices; None where unknown."""
    whole = whole_devices(d.name for d in devices)
    # A device-mapper device's I/O is its disks' too (LVM, dm-crypt on sda2): counted there.
    chosen = [d for d in devices if d.name in whole and d.mapper is None]
    busy = [d.busy_percent for d in chosen if d.busy_percent is not None]
    return (
        _sum([d.read_rate for d in chosen]),
        _sum([d.write_rate for d in chosen]),
        max(busy) if busy else None,
    )
