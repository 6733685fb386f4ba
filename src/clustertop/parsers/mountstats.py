"""Parser for /proc/self/mountstats: NFS mounts' byte counters, and their rates."""

from __future__ import annotations

import re

from clustertop.model.nfs import NfsCounters, NfsIo

_DEVICE = re.compile(r"^device (\S+) mounted on (\S+) with fstype (nfs4?)\b")
_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(path: str) -> str:
    """The kernel writes space, tab, newline and backslash in paths as octal escapes."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), path)


def parse_mountstats(text: str) -> tuple[NfsCounters, ...]:
    """Every NFS mount with a `bytes:` line (other filesystems have none and are left out);
    ValueError on a `bytes:` line whose counters are not numbers."""
    found: list[NfsCounters] = []
    current: tuple[str, str] | None = None
    for line in text.splitlines():
        match = _DEVICE.match(line)
        if match:
            current = (_unescape(match.group(2)), match.group(1))
            continue
        if line.startswith("device "):
            current = None  # another filesystem
            continue
        words = line.split()
        if current is None or not words or words[0] != "bytes:":
            continue
        values = words[1:7]
        if len(values) < 4 or not all(v.isdigit() for v in values):
            raise ValueError(f"mountstats {current[0]}: not a bytes line: {line.strip()[:80]!r}")
        normal_read, normal_write, direct_read, direct_write = (int(v) for v in values[:4])
        mount, device = current
        found.append(
            NfsCounters(mount, device, normal_read + direct_read, normal_write + direct_write)
        )
        current = None
    return tuple(found)


def nfs_rates(
    before: tuple[float, tuple[NfsCounters, ...]] | None,
    after: tuple[float, tuple[NfsCounters, ...]],
) -> tuple[NfsIo, ...]:
    """Mounts of `after` (time, counters) with rates against `before`: none for a new mount,
    another device on the mount point, or counters that went back (remounted)."""
    if before is None or after[0] <= before[0]:
        return tuple(NfsIo(c) for c in after[1])
    seconds = after[0] - before[0]
    old = {c.mount: c for c in before[1]}
    rows = []
    for now in after[1]:
        was = old.get(now.mount)
        if (
            was is None
            or was.device != now.device
            or now.read_bytes < was.read_bytes
            or (now.write_bytes < was.write_bytes)
        ):
            rows.append(NfsIo(now))
            continue
        rows.append(
            NfsIo(
                now,
                (now.read_bytes - was.read_bytes) / seconds,
                (now.write_bytes - was.write_bytes) / seconds,
            )
        )
    return tuple(rows)
