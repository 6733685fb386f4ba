"""Loopback addresses and ports for a fleet, random per run so parallel runs never collide."""

from __future__ import annotations

import random
import socket


def random_base() -> str:
    """A random "127.A.B" prefix, avoiding 127.0.x (where the machine's own services live)."""
    rng = random.SystemRandom()
    return f"127.{rng.randint(16, 250)}.{rng.randint(0, 255)}"


def spread_addresses(count: int) -> list[str]:
    """`count` addresses 127.A.B.1.., 250 per third octet from a random A (none ends in 0/255)."""
    second = random.SystemRandom().randint(16, 215)
    return [f"127.{second}.{i // 250}.{1 + i % 250}" for i in range(count)]


def free_port(address: str) -> int:
    """A TCP port nothing listens on at `address` right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return int(sock.getsockname()[1])


def silent_listener(address: str) -> socket.socket:
    """A socket that completes TCP handshakes but never speaks: a host hung before SSH."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((address, 0))
    sock.listen(64)  # never accept(): the kernel completes handshakes, nobody answers
    return sock
