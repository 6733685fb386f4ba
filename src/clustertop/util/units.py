"""Formatting of sizes, percentages and durations, with N/A for unknown values."""

from __future__ import annotations

import time

NA = "N/A"
"""Shown for a value that is unknown."""

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(value: int | float | None) -> str:
    """1536 -> '1.5 KiB'; None -> 'N/A'."""
    if value is None:
        return NA
    size = float(value)
    for unit in _BYTE_UNITS:
        if abs(size) < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def percent(value: float | None, digits: int = 0) -> str:
    """42.4 -> '42%'; None -> 'N/A'."""
    return NA if value is None else f"{value:.{digits}f}%"


def number(value: float | None, digits: int = 0, unit: str = "") -> str:
    """A number with a unit, or N/A."""
    return NA if value is None else f"{value:.{digits}f}{unit}"


def duration(seconds: float | None) -> str:
    """Compact duration: '45s', '12m', '3h05m', '4d03h'."""
    if seconds is None:
        return NA
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s" if s < 600 else f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def age(since: float | None, now: float | None = None) -> str:
    """How long ago a unix time was, as a duration."""
    if since is None:
        return NA
    return duration((time.time() if now is None else now) - since)


def used_of(used: int | None, total: int | None) -> str:
    """'3.1/80.0 GiB' style pair, in the unit of the total."""
    if used is None or total is None:
        return NA if total is None else f"{NA}/{human_bytes(total)}"
    if total <= 0:
        return f"{human_bytes(used)}/{human_bytes(total)}"
    total_text = human_bytes(total)
    unit = total_text.split()[-1]
    scale = 1024 ** _BYTE_UNITS.index(unit)
    return f"{used / scale:.1f}/{total / scale:.1f} {unit}"


def ratio_percent(used: int | float | None, total: int | float | None) -> float | None:
    """used / total as a percentage; None when unknown or total is 0."""
    if used is None or total is None or total <= 0:
        return None
    return 100.0 * used / total


def rate(value: float | None) -> str:
    """Bytes per second: 1536.0 -> '1.5 KiB/s'; None -> 'N/A'."""
    return NA if value is None else f"{human_bytes(value)}/s"


def short_bytes(value: float | None) -> str:
    """A size in at most 5 characters for narrow columns: 900 -> '900', 1536 -> '1.5K',
    25 * 2**20 -> '25M'; None -> 'N/A'."""
    if value is None:
        return NA
    size = float(value)
    for unit in ("", "K", "M", "G", "T"):
        if size < 1000 or unit == "T":
            return f"{size:.0f}{unit}" if size >= 10 or not unit else f"{size:.1f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")
