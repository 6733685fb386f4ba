"""NFS mounts' I/O: bytes read and written per mount, from /proc/self/mountstats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NfsCounters:
    """One NFS mount's cumulative byte counters (the `bytes:` line of /proc/self/mountstats)."""

    mount: str
    """Where it is mounted (octal escapes of the kernel decoded, as df shows it)."""
    device: str
    """What is mounted (server:/export)."""
    read_bytes: int
    """Bytes read by applications: normal (page cache) plus O_DIRECT reads."""
    write_bytes: int
    """Bytes written by applications: normal plus O_DIRECT writes."""


@dataclass(frozen=True, slots=True)
class NfsIo:
    """One NFS mount's I/O over the last interval."""

    counters: NfsCounters
    """Cumulative counters at the snapshot."""
    read_rate: float | None = None
    """Bytes read per second; None on the first reading or after a remount."""
    write_rate: float | None = None
    """Bytes written per second; None on the first reading or after a remount."""

    @property
    def mount(self) -> str:
        """Mount point."""
        return self.counters.mount
