"""Local interface traffic and block-device I/O from /proc, with rates between ticks."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from clustertop.model import Container
from clustertop.model.network import DiskIo, Interface, InterfaceKind, NetCounters
from clustertop.model.nfs import NfsIo
from clustertop.parsers.diskstats import parse_diskstats
from clustertop.parsers.netdev import interface_kind, parse_ib_port, parse_net_dev
from clustertop.parsers.rates import DiskSample, NetSample, disk_rates, interface_rates
from clustertop.sources.local.stacked_io import NfsReader, with_mapper_names

BOOT_ID = "/proc/sys/kernel/random/boot_id"
"""Changes on every boot: counters read on another boot are not compared."""


@dataclass(frozen=True, slots=True)
class NetworkReading:
    """The network section of one local snapshot."""

    interfaces: tuple[Interface, ...] = ()
    """Interfaces with rates (none on the first reading)."""
    error: str | None = None
    """Why interfaces could not be read, or which parts could not."""


@dataclass(frozen=True, slots=True)
class DiskIoReading:
    """The disk I/O section of one local snapshot."""

    devices: tuple[DiskIo, ...] = ()
    """Block devices with rates (none on the first reading)."""
    error: str | None = None
    """Why /proc/diskstats could not be read."""
    nfs: tuple[NfsIo, ...] = ()
    """NFS mounts with rates (none on the first reading)."""


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as file:
        return file.read()


def boot_id() -> str:
    """This boot's identity ("" when the kernel has no boot_id)."""
    try:
        return _read(BOOT_ID).strip()
    except OSError:
        return ""


def _ib_ports(sys_root: str) -> tuple[list[NetCounters], list[str]]:
    """Every InfiniBand port's counters; unreadable ports named in the second list."""
    base = os.path.join(sys_root, "class/infiniband")
    ports: list[NetCounters] = []
    problems: list[str] = []
    if not os.path.isdir(base):
        return ports, problems
    for device in sorted(os.listdir(base)):
        ports_dir = os.path.join(base, device, "ports")
        for port in sorted(os.listdir(ports_dir)) if os.path.isdir(ports_dir) else []:
            counters_dir = os.path.join(ports_dir, port, "counters")
            try:
                files = {f: _read(os.path.join(counters_dir, f)) for f in os.listdir(counters_dir)}
                ports.append(parse_ib_port(f"{device}/{port}", files))
            except (OSError, ValueError) as exc:
                problems.append(f"infiniband {device}/{port}: {exc}")
    return ports, problems


def container_counters(container: Container) -> tuple[NetCounters, str] | None:
    """A running container's traffic (its namespace's interfaces but lo, summed) and the
    namespace's identity; None when it shares the host's namespace or cannot be read."""
    if container.state != "running" or container.pid is None:
        return None
    try:
        namespace = os.readlink(f"/proc/{container.pid}/ns/net")
        if namespace == os.readlink("/proc/self/ns/net"):
            return None  # --network host: its traffic is the host's
        found = parse_net_dev(_read(f"/proc/{container.pid}/net/dev"))
    except (OSError, ValueError):
        return None
    own = [c for c in found if c.name != "lo"]
    total = [sum(getattr(c, f) for c in own) for f in _COUNTER_FIELDS]
    return NetCounters(container.name, *total), namespace


_COUNTER_FIELDS = [f.name for f in dataclasses.fields(NetCounters) if f.name != "name"]


class NetworkReader:
    """Reads /proc/net/dev (of one network namespace), InfiniBand counters and each running
    container's own traffic each tick."""

    def __init__(
        self,
        proc_net: str = "/proc/self/net",
        sys_root: str = "/sys",
        containers: Callable[[], Iterable[Container]] = tuple,
    ) -> None:
        self._proc_net = proc_net
        self._sys = sys_root
        self._containers = containers
        self._last: NetSample | None = None
        self._last_containers: NetSample | None = None

    def _ids_and_kinds(self, names: list[str]) -> tuple[dict[str, int], dict[str, InterfaceKind]]:
        ids: dict[str, int] = {}
        kinds: dict[str, InterfaceKind] = {}
        for name in names:
            base = os.path.join(self._sys, "class/net", name)
            # Another namespace's interface is not in our /sys: its name alone groups it.
            with contextlib.suppress(OSError, ValueError):
                ids[name] = int(_read(os.path.join(base, "ifindex")))
            has_device = os.path.exists(os.path.join(base, "device")) if name in ids else None
            kinds[name] = interface_kind(name, has_device)
        return ids, kinds

    def read(self) -> NetworkReading:
        """Counters now and rates since the previous call."""
        try:
            counters = list(parse_net_dev(_read(os.path.join(self._proc_net, "dev"))))
        except (OSError, ValueError) as exc:
            return NetworkReading(error=f"cannot read {self._proc_net}/dev: {exc}")
        ids, kinds = self._ids_and_kinds([c.name for c in counters])
        ib, problems = _ib_ports(self._sys)
        kinds.update((port.name, InterfaceKind.INFINIBAND) for port in ib)
        sample = NetSample(time.monotonic(), tuple(counters + ib), boot_id(), ids)
        interfaces = interface_rates(self._last, sample, kinds)
        self._last = sample
        return NetworkReading(interfaces + self._container_rows(), "; ".join(problems) or None)

    def _container_rows(self) -> tuple[Interface, ...]:
        read = [container_counters(c) for c in self._containers()]
        found = [pair for pair in read if pair is not None]
        # The namespace as the id: a container re-created under the same name starts afresh.
        ids = {counters.name: hash(namespace) for counters, namespace in found}
        sample = NetSample(time.monotonic(), tuple(c for c, _ in found), boot_id(), ids)
        kinds = dict.fromkeys(ids, InterfaceKind.CONTAINER)
        rows = interface_rates(self._last_containers, sample, kinds)
        self._last_containers = sample
        return rows


class DiskIoReader:
    """Reads /proc/diskstats each tick."""

    def __init__(self, path: str = "/proc/diskstats") -> None:
        self._path = path
        self._last: DiskSample | None = None
        self._nfs = NfsReader()

    def read(self) -> DiskIoReading:
        """Counters now and rates since the previous call."""
        try:
            counters = parse_diskstats(_read(self._path))
        except (OSError, ValueError) as exc:
            return DiskIoReading(error=f"cannot read {self._path}: {exc}")
        sample = DiskSample(time.monotonic(), counters, boot_id())
        devices = with_mapper_names(disk_rates(self._last, sample))
        self._last = sample
        nfs, problem = self._nfs.read()
        return DiskIoReading(devices, problem, nfs)
