"""A host's ports section parsed again only when its text changed since the last reading."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from clustertop.model.network import ListeningPort
from clustertop.sources.ssh.netio import read_ports


def _digest(parts: Mapping[str, str]) -> bytes:
    """A 128-bit digest of every part (names and texts, in order, each length-prefixed)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, text in parts.items():
        data = text.encode("utf-8", "surrogatepass")
        digest.update(f"{len(name)}:{name}{len(data)}:".encode("utf-8", "surrogatepass"))
        digest.update(data)
    return digest.digest()


class PortsMemo:
    """read_ports, kept while the section's text stays the same.

    A host's listening sockets seldom change, yet each reading (every few ticks) parsed every
    socket line, holder and user again: ~4 ms a reading with this machine's ~670 listening
    sockets, a quarter of an idle TUI's snapshot assembly (benchmarks/IDLE.md). read_ports is
    a function of the text alone, so equal text gives the same ports; equal text is told by a
    digest, not by keeping the text, which would hold ~100 kB per host.
    """

    __slots__ = ("_digest", "_ports")

    def __init__(self) -> None:
        self._digest = b""
        self._ports: tuple[ListeningPort, ...] = ()

    def read(self, parts: Mapping[str, str]) -> tuple[ListeningPort, ...]:
        """read_ports(parts), the same tuple as last time when the text is the same."""
        digest = _digest(parts)
        if digest != self._digest:
            ports = read_ports(parts)  # raises as read_ports does: the memo is left as it was
            self._digest, self._ports = digest, ports
        return self._ports
