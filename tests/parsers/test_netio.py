"""Parsers for /proc/net/dev, InfiniBand counters, /proc/diskstats, sockets, and safe rates."""

from __future__ import annotations

import pytest

from clustertop.model.network import DiskCounters, InterfaceKind, NetCounters
from clustertop.parsers.diskstats import parse_diskstats
from clustertop.parsers.netdev import interface_kind, parse_ib_port, parse_net_dev
from clustertop.parsers.rates import (
    MAX_BYTE_RATE,
    DiskSample,
    NetSample,
    busy_percent,
    counter_rate,
    disk_rates,
    interface_rates,
)
from clustertop.parsers.sockets import local_ipv4_addresses, parse_sockets, socket_inode

NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 748667142  245321    0    0    0     0          0         0 748667142  245321    0    0    0     0       0          0
  eth0: 342309684   11277    3    4    0     0          0         0   659365    7530    5    6    0     0       0          0
veth1a2b:1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0
"""
DISKSTATS = """\
   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 63246 8788 4257794 22257 320430 365849 11632224 210989 0 40924 255991 126747 28 3999568 14466 57968 8277
 254       1 vda1 60000 0 4000000 20000 300000 0 11000000 200000 0 40000 250000
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
"""
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0 100 0 0 10 0
   1: 0100007F:1F91 0100007F:A000 01 00000000:00000000 00:00000000 00000000  1000        0 4243 1 0 100 0 0 10 0
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:22B8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 79 1 0 100 0 0 10 0
"""
UDP = """\
   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 900 2 0 0
  101: 0100007F:0045 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 901 2 0 0
"""


def test_net_dev_gives_every_interface_with_its_counters() -> None:
    lo, eth0, veth = parse_net_dev(NET_DEV)
    assert lo == NetCounters("lo", 748667142, 245321, 0, 0, 748667142, 245321, 0, 0)
    assert eth0 == NetCounters("eth0", 342309684, 11277, 3, 4, 659365, 7530, 5, 6)
    assert (veth.name, veth.rx_bytes, veth.tx_bytes) == ("veth1a2b", 1000, 2000)  # no space


def test_net_dev_names_a_bad_counter() -> None:
    with pytest.raises(ValueError, match=r"eth0: not a counter: '-5'"):
        parse_net_dev("  eth0: 1 2 3 4 5 6 7 8 -5 10 11 12 13 14 15 16\n")


def test_infiniband_data_counters_are_words_of_four_bytes() -> None:
    port = parse_ib_port(
        "mlx5_0/1",
        {"port_rcv_data": "250\n", "port_xmit_data": "1000\n", "port_xmit_discards": "2\n"},
    )
    assert (port.rx_bytes, port.tx_bytes, port.tx_drops, port.rx_errors) == (1000, 4000, 2, 0)
    with pytest.raises(ValueError, match="mlx5_0/1 port_rcv_data"):
        parse_ib_port("mlx5_0/1", {"port_rcv_data": "lots"})


@pytest.mark.parametrize(
    ("name", "has_device", "kind"),
    [
        ("lo", None, InterfaceKind.LOOPBACK),
        ("eth0", None, InterfaceKind.PHYSICAL),
        ("enp3s0f0", True, InterfaceKind.PHYSICAL),
        ("bond0", False, InterfaceKind.PHYSICAL),
        ("veth1a2b3c", False, InterfaceKind.VIRTUAL),
        ("docker0", False, InterfaceKind.VIRTUAL),
        ("br-0123abcd", None, InterfaceKind.VIRTUAL),
        ("cali12345", None, InterfaceKind.VIRTUAL),
    ],
)
def test_interfaces_are_grouped_by_name_or_device(
    name: str, has_device: bool | None, kind: InterfaceKind
) -> None:
    assert interface_kind(name, has_device) is kind


def test_diskstats_leaves_out_idle_devices_and_reads_short_old_kernel_lines() -> None:
    vda, vda1 = parse_diskstats(DISKSTATS)
    assert vda == DiskCounters("vda", 63246, 4257794, 320430, 11632224, 40924)
    assert (vda1.name, vda1.busy_ms) == ("vda1", 40000)  # 14 fields (kernels before 4.18)
    with pytest.raises(ValueError, match="sdb"):
        parse_diskstats("8 16 sdb 1 2 x 4 5 6 7 8 9 10 11\n")


def test_sockets_keep_listening_tcp_and_unconnected_udp_with_addresses_as_ss_prints() -> None:
    [listening] = parse_sockets("tcp", TCP)
    assert (listening.address, listening.port, listening.uid, listening.inode) == (
        "127.0.0.1",
        8080,
        1000,
        4242,
    )
    six = parse_sockets("tcp6", TCP6)
    assert [(s.address, s.port) for s in six] == [("::", 8888), ("::1", 80), ("127.0.0.1", 81)]
    [udp] = parse_sockets("udp", UDP)
    assert (udp.address, udp.port, udp.inode) == ("0.0.0.0", 68, 900)


def test_a_malformed_socket_line_names_its_file() -> None:
    with pytest.raises(ValueError, match=r"/proc/net/tcp: .*address:port"):
        parse_sockets("tcp", "   0: 0100007F 00000000:0000 0A 0 0 0 1000 0 4242\n")


def test_socket_links_and_fib_trie_addresses() -> None:
    assert socket_inode("socket:[4242]") == 4242
    assert socket_inode("pipe:[4242]") is None
    trie = "Main:\n  |-- 127.0.0.1\n     /32 host LOCAL\n  |-- 172.17.0.2\n     /32 host LOCAL\n"
    assert local_ipv4_addresses(trie) == ("172.17.0.2",)


def _net(time: float, rx: int, tx: int, boot: str = "b1", ifindex: int = 2) -> NetSample:
    counters = NetCounters("eth0", rx, 0, 0, 0, tx, 0, 0, 0)
    return NetSample(time, (counters,), boot, {"eth0": ifindex})


def test_rates_are_deltas_over_time_and_unknown_on_the_first_reading() -> None:
    [first] = interface_rates(None, _net(10.0, 1000, 500), {})
    assert (first.rx_rate, first.tx_rate, first.kind) == (None, None, InterfaceKind.PHYSICAL)
    [eth0] = interface_rates(_net(10.0, 1000, 500), _net(12.0, 5000, 700), {})
    assert (eth0.rx_rate, eth0.tx_rate) == (2000.0, 100.0)


@pytest.mark.parametrize(
    ("after", "why"),
    [
        (_net(12.0, 10, 700), "counter went back (interface re-created, or a 32-bit wrap)"),
        (_net(12.0, 5000, 700, ifindex=9), "same name, new ifindex: interface re-created"),
        (_net(12.0, 5000, 700, boot="b2"), "host rebooted"),
        (_net(10.0, 5000, 700), "no time passed"),
    ],
)
def test_resets_give_no_rate_never_a_negative_one(after: NetSample, why: str) -> None:
    [eth0] = interface_rates(_net(10.0, 1000, 500), after, {})
    assert eth0.rx_rate is None, why


def test_a_counter_jump_past_any_link_gives_no_rate() -> None:
    jump = int(MAX_BYTE_RATE * 10)
    assert counter_rate(0, jump, 1.0, MAX_BYTE_RATE) is None
    assert counter_rate(0, 100, 1.0, MAX_BYTE_RATE) == 100.0


def test_disk_rates_in_bytes_iops_and_busy_share() -> None:
    before = DiskSample(0.0, (DiskCounters("sda", 100, 1000, 50, 2000, 1000),), "b")
    after = DiskSample(2.0, (DiskCounters("sda", 300, 3000, 150, 6000, 2000),), "b")
    [sda] = disk_rates(before, after)
    assert (sda.read_rate, sda.write_rate) == (1000 * 512.0, 2000 * 512.0)
    assert (sda.read_iops, sda.write_iops, sda.busy_percent) == (100.0, 50.0, 50.0)
    rebooted = DiskSample(3.0, (DiskCounters("sda", 1, 1, 1, 1, 1),), "other boot")
    assert disk_rates(after, rebooted)[0].busy_percent is None


def test_busy_share_is_clamped_near_100_and_dropped_when_absurd() -> None:
    assert busy_percent(0, 1020, 1.0) == 100.0  # clocks differ a little
    assert busy_percent(0, 5000, 1.0) is None
    assert busy_percent(500, 100, 1.0) is None
