"""Parsers for /proc/net/{tcp,tcp6,udp,udp6}, socket fd links and fib_trie's local addresses."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass

from clustertop.util.strpool import share_number

PROTOCOLS = ("tcp", "tcp6", "udp", "udp6")
"""The /proc/net files read, in the order ports are listed."""
_TCP_LISTEN = "0A"
_UDP_UNCONNECTED = "07"
_SOCKET_LINK = re.compile(r"^socket:\[(\d+)\]$")


@dataclass(frozen=True, slots=True)
class RawSocket:
    """One listening socket as /proc/net/<protocol> lists it, before processes are known."""

    protocol: str
    """tcp, tcp6, udp or udp6."""
    address: str
    """Local address, printed as ss prints it."""
    port: int
    """Local port."""
    uid: int
    """Owner uid."""
    inode: int
    """Socket inode."""


@functools.lru_cache(maxsize=4096)
def _address(hex_address: str) -> str:
    """Kernel hex (each 32-bit word in host order, little-endian here) -> printable address.

    Memoised: a host's sockets share a few addresses, and ipaddress is slow (the ports section
    of a host with a thousand sockets was ~8 % of an idle TUI's CPU).
    """
    raw = bytes.fromhex(hex_address)
    if len(raw) not in (4, 16):
        raise ValueError(f"not an IPv4 or IPv6 address: {hex_address[:40]!r}")
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(swapped))
    six = ipaddress.IPv6Address(swapped)
    return str(six.ipv4_mapped) if six.ipv4_mapped is not None else str(six)


def _endpoint(field: str) -> tuple[str, int]:
    address, colon, port = field.partition(":")
    if not colon:
        raise ValueError(f"not an address:port field: {field[:60]!r}")
    return _address(address), share_number(int(port, 16))  # ports repeat across hosts


def _is_listening(protocol: str, state: str, remote_port: int) -> bool:
    if protocol.startswith("tcp"):
        return state == _TCP_LISTEN
    return state == _UDP_UNCONNECTED and remote_port == 0


def _socket_line(protocol: str, line: str) -> RawSocket | None:
    fields = line.split()
    if len(fields) < 10 or not fields[0].endswith(":"):
        return None  # the header line
    tcp = protocol.startswith("tcp")
    if tcp and fields[3].upper() != _TCP_LISTEN:
        return None  # a connection: not listed, so not worth parsing
    try:
        address, port = _endpoint(fields[1])
        # A listening TCP socket's remote end is always 0.0.0.0:0; UDP's tells bound from not.
        remote_port = 0 if tcp else _endpoint(fields[2])[1]
        uid, inode = int(fields[7]), int(fields[9])
    except ValueError as exc:
        raise ValueError(f"/proc/net/{protocol}: {exc}") from None
    if not _is_listening(protocol, fields[3].upper(), remote_port):
        return None
    return RawSocket(protocol, address, port, uid, inode)


def parse_sockets(protocol: str, text: str) -> tuple[RawSocket, ...]:
    """Listening TCP and unconnected UDP sockets of one /proc/net file (what `ss -ltun` lists).

    ValueError names the file and the field when a line is malformed.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}")
    found = (_socket_line(protocol, line) for line in text.splitlines())
    return tuple(sock for sock in found if sock is not None)


def socket_inode(link: str) -> int | None:
    """The inode of an fd link 'socket:[12345]', None for any other link."""
    match = _SOCKET_LINK.match(link)
    return int(match.group(1)) if match else None


def local_ipv4_addresses(fib_trie: str) -> tuple[str, ...]:
    """Non-loopback IPv4 addresses of a network namespace from its /proc/net/fib_trie.

    Each address is a '|-- a.b.c.d' line followed by a '/32 host LOCAL' line.
    """
    found: list[str] = []
    previous = ""
    for line in fib_trie.splitlines():
        text = line.strip()
        if text.startswith("/32 host LOCAL") and previous.startswith("|-- "):
            address = previous[4:].strip()
            if not address.startswith("127.") and address not in found:
                found.append(address)
        previous = text
    return tuple(found)
