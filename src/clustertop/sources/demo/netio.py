"""Demo network traffic, disk I/O and listening ports for one tick of a demo host."""

from __future__ import annotations

from clustertop.model import Container
from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    ListeningPort,
    NetCounters,
)
from clustertop.sources.demo.frame import Frame

_MIB = 1024.0 * 1024.0
_MTU = 1500


def _counters(name: str, rx_rate: float, tx_rate: float, seconds: float) -> NetCounters:
    rx, tx = int(rx_rate * seconds), int(tx_rate * seconds)
    return NetCounters(name, rx, rx // _MTU, 0, 0, tx, tx // _MTU, 0, 0)


def _row(name: str, kind: InterfaceKind, rx: float, tx: float, seconds: float) -> Interface:
    return Interface(_counters(name, rx, tx, seconds), kind, round(rx, 0), round(tx, 0))


def interfaces(frame: Frame, containers: tuple[Container, ...]) -> tuple[Interface, ...]:
    """lo, the NIC, InfiniBand on GPU hosts, docker0, a veth and a traffic row per container."""
    up = frame.now - frame.start + frame.host.uptime
    busy = sum(1 for job in frame.running if job.util)
    wave = 1.0 + 0.3 * frame.wave(1.0)
    storage = frame.host.name == "storage01"
    nic_rx = (420.0 if storage else 6.0 + 3.0 * busy) * _MIB * wave
    nic_tx = (380.0 if storage else 1.5 + 0.5 * busy) * _MIB * wave
    rows = [
        _row("lo", InterfaceKind.LOOPBACK, 2.0 * _MIB, 2.0 * _MIB, up),
        _row("enp65s0f0", InterfaceKind.PHYSICAL, nic_rx, nic_tx, up),
    ]
    if frame.host.gpu_count >= 8:
        ib = busy * 900.0 * _MIB * wave
        rows.append(_row("mlx5_0/1", InterfaceKind.INFINIBAND, ib, ib, up))
    running = [c for c in containers if c.state == "running"]
    if running:
        rows.append(_row("docker0", InterfaceKind.VIRTUAL, 0.2 * _MIB, 0.1 * _MIB, up))
    for index, ctr in enumerate(running):
        rate = (0.5 + index) * 0.1 * _MIB * wave
        rows.append(_row(f"veth{ctr.id[:7]}", InterfaceKind.VIRTUAL, rate / 4, rate, up))
        rows.append(_row(ctr.name, InterfaceKind.CONTAINER, rate, rate / 4, up))
    return tuple(rows)


def _device(name: str, read: float, write: float, busy: float, seconds: float) -> DiskIo:
    iops_r, iops_w = read / 65536, write / 32768
    counters = DiskCounters(
        name,
        int(iops_r * seconds),
        int(read * seconds) // 512,
        int(iops_w * seconds),
        int(write * seconds) // 512,
        int(busy * 10 * seconds),
    )
    return DiskIo(counters, round(read, 0), round(write, 0), iops_r, iops_w, round(busy, 1))


def disk_io(frame: Frame) -> tuple[DiskIo, ...]:
    """The system NVMe and its partitions, and the RAID the big filesystems sit on."""
    up = frame.now - frame.start + frame.host.uptime
    wave = 1.0 + 0.2 * frame.wave(2.0)
    root_write = 4.0 * _MIB * wave
    rows = [
        _device("nvme0n1", 1.0 * _MIB, root_write, 3.0 * wave, up),
        _device("nvme0n1p1", 0.0, 0.0, 0.0, up),
        _device("nvme0n1p2", 1.0 * _MIB, root_write, 3.0 * wave, up),
    ]
    if frame.host.name == "storage01":  # the full /data array is also saturated
        rows += [
            _device("md127", 380.0 * _MIB * wave, 410.0 * _MIB * wave, min(99.0 * wave, 100.0), up),
            _device("md126", 20.0 * _MIB, 5.0 * _MIB, 12.0, up),
        ]
    elif frame.host.gpu_count:
        rows.append(_device("md0", 600.0 * _MIB * wave, 40.0 * _MIB, 35.0 * wave, up))
    return tuple(rows)


def ports(containers: tuple[Container, ...]) -> tuple[ListeningPort, ...]:
    """sshd and node_exporter on the host, a Jupyter in each running container."""
    rows = [
        ListeningPort("tcp", "0.0.0.0", 22, 0, 1001, "root", 1180, "sshd", None, "127.0.0.1"),
        ListeningPort("tcp6", "::", 22, 0, 1002, "root", 1180, "sshd", None, "::1"),
        ListeningPort("tcp", "0.0.0.0", 9100, 65534, 1003, "nobody", 1201, "node_exporter"),
    ]
    running = [c for c in containers if c.state == "running" and c.pid is not None]
    for index, ctr in enumerate(running):
        rows.append(
            ListeningPort(
                "tcp",
                "0.0.0.0",
                8888,
                0,
                2000 + index,
                "root",
                ctr.pid,
                "jupyter-lab",
                ctr.name,
                f"172.17.0.{index + 2}",
            )
        )
    return tuple(rows)
