"""Schema 2 JSON keys for network interfaces, block-device I/O and listening ports."""

from __future__ import annotations

from typing import Any

from clustertop.cli.attribution_json import attribution_json
from clustertop.cli.json_attrs import attrs
from clustertop.model import HostSnapshot
from clustertop.model.network import DiskIo, Interface, ListeningPort, off_host_rates
from clustertop.model.nfs import NfsIo


def interface_json(interface: Interface) -> dict[str, Any]:
    """One interface: counters, group and rates."""
    c = interface.counters
    return {
        "name": c.name,
        "kind": interface.kind.value,
        **attrs(c, "rx_bytes", "rx_packets", "rx_errors", "rx_drops"),
        **attrs(c, "tx_bytes", "tx_packets", "tx_errors", "tx_drops"),
        **attrs(interface, "rx_rate", "tx_rate"),
    }


def disk_io_json(device: DiskIo) -> dict[str, Any]:
    """One block device: counters and rates."""
    c = device.counters
    return {
        **attrs(c, "name", "reads"),
        "read_bytes": c.read_sectors * 512,
        "writes": c.writes,
        "write_bytes": c.write_sectors * 512,
        "busy_ms": c.busy_ms,
        **attrs(device, "read_rate", "write_rate", "read_iops", "write_iops", "busy_percent"),
        "mapper": device.mapper,
    }


def nfs_io_json(mount: NfsIo) -> dict[str, Any]:
    """One NFS mount's bytes read and written, and their rates."""
    c = mount.counters
    return {
        **attrs(c, "mount", "device", "read_bytes", "write_bytes"),
        **attrs(mount, "read_rate", "write_rate"),
    }


def port_json(port: ListeningPort) -> dict[str, Any]:
    """One listening socket."""
    return {
        **attrs(port, "protocol", "address", "port", "uid", "inode", "user", "pid", "process"),
        **attrs(port, "container", "reach_address", "note", "owner"),
        "attribution": attribution_json(port.attribution),
    }


def netio_json(snap: HostSnapshot) -> dict[str, Any]:
    """The host entry's network, disk I/O and ports keys."""
    rx, tx = off_host_rates(snap.interfaces)
    return {
        "network_rx_rate": rx,
        "network_tx_rate": tx,
        "interfaces": [interface_json(i) for i in snap.interfaces],
        "network_error": snap.network_error,
        "disk_io": [disk_io_json(d) for d in snap.disk_io],
        "disk_io_error": snap.disk_io_error,
        "nfs_io": [nfs_io_json(m) for m in snap.nfs_io],
        "ports": [port_json(p) for p in snap.ports],
        "ports_error": snap.ports_error,
    }
