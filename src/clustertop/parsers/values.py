"""Cell-level conversions shared by the nvidia-smi parsers: N/A markers, numbers, MiB."""

from __future__ import annotations

import math
import re

from clustertop.model import MIB

_MISSING_WORDS = frozenset({"", "N/A", "NOT SUPPORTED", "ERR!", "UNKNOWN ERROR"})
_NUMBER = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*([A-Za-z%/]*)$")
_BYTES_PER_UNIT = {
    "": MIB,  # nvidia-smi's nounits memory cells are MiB
    "B": 1,
    "KIB": 1024,
    "MIB": MIB,
    "GIB": 1024 * MIB,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
}


def present(cell: str | None) -> str | None:
    """The stripped cell, or None for N/A markers: `[N/A]`, `N/A`, `[Not Supported]`, `[...]`."""
    if cell is None:
        return None
    text = cell.strip()
    # Every bracketed cell is nvidia-smi's way of saying "no value" ([N/A], [Unknown Error],
    # [GPU requires reset], [Requested functionality has been deprecated], ...).
    if text.startswith("[") and text.endswith("]"):
        return None
    return None if text.upper() in _MISSING_WORDS else text


def bracketed(cell: str | None) -> str | None:
    """The text inside a `[...]` cell ("[GPU is lost]" -> "GPU is lost"), else None."""
    text = (cell or "").strip()
    if len(text) > 2 and text.startswith("[") and text.endswith("]"):
        return text[1:-1].strip()
    return None


def _plain(cell: str, kind: type[float] | type[int]) -> float | None:
    # The common case first (a nounits cell such as " 627.40"): one C-level conversion.
    # Python's float() and int() also take "1_000", "nan" and "inf", which nvidia-smi never
    # prints: those go the slow way (and are refused there).
    if "_" in cell:
        return None
    try:
        value = kind(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def number(cell: str | None) -> float | None:
    """'627.40 W' / '100 %' / '42' -> float; N/A or garbage -> None."""
    if cell is not None and (fast := _plain(cell, float)) is not None:
        return fast
    text = present(cell)
    if text is None:
        return None
    match = _NUMBER.match(text)
    return float(match.group(1)) if match else None


def integer(cell: str | None) -> int | None:
    """'0' / '15' -> int; N/A, fractions or garbage -> None."""
    if cell is not None and (fast := _plain(cell, int)) is not None:
        return int(fast)
    text = present(cell)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def memory_bytes(cell: str | None) -> int | None:
    """'32362 MiB' or '32362' (MiB) -> bytes; N/A or garbage -> None."""
    if cell is not None and (fast := _plain(cell, int)) is not None:
        return int(fast) * MIB
    text = present(cell)
    if text is None:
        return None
    match = _NUMBER.match(text)
    if not match:
        return None
    scale = _BYTES_PER_UNIT.get(match.group(2).upper())
    return None if scale is None else round(float(match.group(1)) * scale)
