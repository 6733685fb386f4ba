"""The `--once` report's network, disk I/O and ports: overview cells and detail tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clustertop.model import HostSnapshot, Section
from clustertop.model.network import InterfaceKind, disk_totals, off_host_rates, whole_devices
from clustertop.util.units import NA, number, rate, short_bytes

Table = Callable[[Sequence[str], Sequence[Sequence[object]]], str]


def _unknown(snap: HostSnapshot, section: Section) -> str:
    return "error" if snap.error_of(section) else NA


def network_cell(snap: HostSnapshot) -> str:
    """'1.2M/340K': bytes per second received/sent over the physical interfaces."""
    rx, tx = off_host_rates(snap.interfaces)
    if rx is None and tx is None:
        return _unknown(snap, Section.NETWORK)
    return f"{short_bytes(rx)}/{short_bytes(tx)}"


def disk_io_cell(snap: HostSnapshot) -> str:
    """'25M/3.0M 40%': read/write bytes per second over the whole disks, and the busiest one."""
    read, write, busy = disk_totals(snap.disk_io)
    if read is None and write is None:
        return _unknown(snap, Section.DISK_IO)
    return f"{short_bytes(read)}/{short_bytes(write)} {number(busy, 0, '%')}"


def _interfaces(snap: HostSnapshot, table: Table) -> str:
    order = {kind: rank for rank, kind in enumerate(InterfaceKind)}
    rows = [
        [
            i.name,
            i.kind.value,
            rate(i.rx_rate),
            rate(i.tx_rate),
            f"{i.counters.rx_errors}/{i.counters.tx_errors}",
            f"{i.counters.rx_drops}/{i.counters.tx_drops}",
        ]
        for i in sorted(snap.interfaces, key=lambda i: (order[i.kind], i.name))
    ]
    return table(["INTERFACE", "KIND", "RX", "TX", "ERRORS RX/TX", "DROPS RX/TX"], rows)


def _disk_io(snap: HostSnapshot, table: Table) -> str:
    whole = whole_devices(d.name for d in snap.disk_io)
    rows = [
        [
            d.name,
            rate(d.read_rate),
            rate(d.write_rate),
            number(d.read_iops, 0),
            number(d.write_iops, 0),
            number(d.busy_percent, 0, "%"),
        ]
        for d in snap.disk_io
        if d.name in whole
    ]
    return table(["DEVICE", "READ", "WRITE", "R IOPS", "W IOPS", "BUSY"], rows)


def _ports(snap: HostSnapshot, table: Table) -> str:
    rows = [
        [
            p.protocol,
            p.address,
            p.port,
            p.user,
            p.process if p.pid is None else f"{p.process} ({p.pid})",
            p.container or "-",
            p.note or "",
        ]
        for p in snap.ports
    ]
    return table(["PROTO", "ADDRESS", "PORT", "USER", "PROCESS", "CONTAINER", ""], rows)


def netio_details(snap: HostSnapshot, table: Table) -> list[str]:
    """The detail tables of one host: interfaces, whole disks' I/O, listening ports."""
    parts: list[str] = []
    if snap.interfaces:
        parts.append(_interfaces(snap, table))
    if snap.disk_io:
        parts.append(_disk_io(snap, table))
    if snap.ports:
        parts.append(_ports(snap, table))
    return parts
