"""The probe's net, dio and ports section bodies to model values (this machine's real /proc)."""

from __future__ import annotations

from pathlib import Path

from clustertop.model.network import InterfaceKind
from clustertop.sources.ssh.netio import NO_PROCESS, NOT_PERMITTED, NetioRates, read_ports

NET_DEV = Path("/proc/net/dev").read_text()
DISKSTATS = Path("/proc/diskstats").read_text()


def _bump(text: str, name: str, by: int) -> str:
    """/proc/net/dev with `name`'s receive bytes raised by `by`."""
    lines = []
    for line in text.splitlines():
        head, colon, rest = line.partition(":")
        if colon and head.strip() == name:
            fields = rest.split()
            fields[0] = str(int(fields[0]) + by)
            lines.append(f"{head}: {' '.join(fields)}")
        else:
            lines.append(line)
    return "\n".join(lines)


def test_interface_rates_run_on_the_hosts_uptime_and_restart_after_a_reboot() -> None:
    rates = NetioRates()
    ib = "mlx5_0/1 port_rcv_data 100\nmlx5_0/1 port_xmit_data 50\n"
    first = rates.interfaces({"": NET_DEV, "ib": ib}, uptime=1000.0)
    assert all(i.rx_rate is None for i in first)
    ib_next = "mlx5_0/1 port_rcv_data 600\nmlx5_0/1 port_xmit_data 50\n"
    second = {
        i.name: i for i in rates.interfaces({"": _bump(NET_DEV, "lo", 4000), "ib": ib_next}, 1002.0)
    }
    assert second["lo"].rx_rate == 2000.0 and second["lo"].kind is InterfaceKind.LOOPBACK
    assert second["mlx5_0/1"].kind is InterfaceKind.INFINIBAND
    assert second["mlx5_0/1"].rx_rate == 1000.0  # 500 words of 4 bytes over 2 s
    rebooted = {i.name: i for i in rates.interfaces({"": _bump(NET_DEV, "lo", 9000)}, 5.0)}
    assert rebooted["lo"].rx_rate is None


def test_disk_rates_from_diskstats() -> None:
    rates = NetioRates()
    assert all(d.busy_percent is None for d in rates.devices(DISKSTATS, 10.0))
    again = rates.devices(DISKSTATS, 12.0)
    assert all(d.read_rate == 0.0 and d.busy_percent == 0.0 for d in again)


def test_ports_with_holders_users_and_what_could_not_be_seen() -> None:
    tcp = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
        "  1000        0 4242 1 0 100 0 0 10 0\n"
        "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000"
        "     0        0 77 1 0 100 0 0 10 0\n"
    )
    parts = {"tcp": tcp, "holders": "denied 3\n4242 9000 jupyter lab\n", "users": "1000 alice\n"}
    ssh, jupyter = read_ports(parts)
    assert (jupyter.port, jupyter.user, jupyter.pid, jupyter.process) == (
        8080,
        "alice",
        9000,
        "jupyter lab",
    )
    assert (ssh.port, ssh.user, ssh.pid, ssh.note) == (22, "0", None, NOT_PERMITTED)
    [alone] = read_ports({"tcp": tcp.splitlines()[2] + "\n", "holders": "denied 0\n"})
    assert alone.note == NO_PROCESS and alone.reach_address == "127.0.0.1"
