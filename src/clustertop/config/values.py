"""Config value parsing and TOML rendering: durations, sizes, booleans, numbers, paths, regexes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

Parser = Callable[[object], object]
"""Turns a TOML, environment or command-line value into a setting's value; ValueError says why."""

DURATION_HINT = "expected a number of seconds like 30 or '5m'"
SIZE_HINT = "expected a size in bytes like 1048576, or with a unit like '500MiB', '1GiB' or '2G'"
BOOL_HINT = "expected true or false (or 1/0, yes/no, on/off)"

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_SIZE_TEXT = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)\Z", re.IGNORECASE)
_IEC = {"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40, "pi": 2**50}
_SI = {"k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12, "p": 10**15}
_SIZE_UNITS = {"": 1, "b": 1} | _IEC | {f"{u}b": n for u, n in (_IEC | _SI).items()} | _SI
_UNIT_NAMES = {"k": "k", "m": "M", "g": "G", "t": "T", "p": "P"}
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def shown(value: object) -> str:
    """A value as an error message quotes it: strings quoted, tables and lists by kind."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value)


def _number(value: object) -> float | None:
    """A real number from an int, float or numeric text; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _duration_text(text: str) -> float | None:
    """'1h30m' -> 5400.0; None when the text is not a duration."""
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
        position = match.end()
    return total if position and text[position:].strip() == "" else None


def duration(*, positive: bool, minimum: float = 0.0) -> Callable[[object], float]:
    """Seconds from a number or text like '90s', '30m', '1h30m', '7d', '500ms', '2w'; more than 0
    when `positive`, and at least `minimum`."""

    def parse(value: object) -> float:
        seconds = _number(value)
        if seconds is None and isinstance(value, str):
            seconds = _duration_text(value)
        if seconds is None or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"{DURATION_HINT}, got {shown(value)}")
        if positive and seconds == 0:
            raise ValueError(f"must be more than 0 seconds, got {shown(value)}")
        if seconds < minimum:
            raise ValueError(f"must be at least {minimum:g} seconds, got {shown(value)}")
        return seconds

    return parse


def size(value: object) -> int:
    """Bytes from an int or text: SI units (k, M, G, T, P = powers of 1000, 'B' optional)
    and IEC units (KiB, MiB, GiB, TiB, PiB = powers of 1024); case does not matter."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE_TEXT.match(value.strip()) if isinstance(value, str) else None
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise ValueError(f"{SIZE_HINT}, got {shown(value)}")
    return round(float(match.group(1)) * _SIZE_UNITS[unit])


def boolean(value: object) -> bool:
    """A TOML boolean, or text 1/0, true/false, yes/no, on/off (any case)."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{BOOL_HINT}, got {shown(value)}")


def real(*, low: float | None = None, high: float | None = None) -> Callable[[object], float]:
    """A finite float, optionally within [low, high]."""

    def parse(value: object) -> float:
        number = _number(value)
        if number is None or not math.isfinite(number):
            raise ValueError(f"expected a number, got {shown(value)}")
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"expected a number {_bounds(low, high)}, got {shown(value)}")
        return number

    return parse


def integer(*, low: int, high: int | None = None) -> Callable[[object], int]:
    """A whole number, at least `low` (and at most `high`)."""

    def parse(value: object) -> int:
        number = _number(value)
        if number is None or not number.is_integer():
            raise ValueError(f"expected a whole number, got {shown(value)}")
        if number < low or (high is not None and number > high):
            raise ValueError(f"expected a whole number {_bounds(low, high)}, got {shown(value)}")
        return int(number)

    return parse


def _bounds(low: float | None, high: float | None) -> str:
    if high is None:
        return f"of at least {low:g}"
    if low is None:
        return f"of at most {high:g}"
    return f"from {low:g} to {high:g}"


def text(*, allow_empty: bool = False) -> Callable[[object], str]:
    """A string without control characters (non-empty unless `allow_empty`)."""

    def parse(value: object) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {shown(value)}")
        if not allow_empty and not value.strip():
            raise ValueError("expected a non-empty string")
        if not value.isprintable():
            raise ValueError(f"control characters are not allowed, got {shown(value)}")
        return value

    return parse


def optional_path(value: object) -> Path | None:
    """A path; the empty string means 'not set' (TOML has no null)."""
    if isinstance(value, Path):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a path as a string, got {shown(value)}")
    if not value.isprintable():
        raise ValueError(f"control characters are not allowed, got {shown(value)}")
    return Path(value) if value.strip() else None


def string_list(value: object) -> tuple[str, ...]:
    """A TOML list of strings, or comma-separated text ('owner,user')."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError(f'expected a list of strings like ["owner", "user"], got {shown(value)}')
    if not all(item.strip() for item in value):
        raise ValueError("list items must not be empty")
    return tuple(value)


def owner_regex(value: object) -> str:
    """A regex with a named group `user`; the empty string turns name matching off."""
    pattern = text(allow_empty=True)(value)
    if pattern == "":
        return pattern
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc}): {pattern!r}") from None
    if "user" not in compiled.groupindex:
        raise ValueError(
            f"the regex needs a named group 'user', like ^(?P<user>[^-_.]+), got {pattern!r}"
        )
    return pattern


def format_duration(seconds: float) -> str:
    """5400 -> '1h30m', 604800 -> '7d', 2.5 -> '2.5s': text `duration()` reads back exactly."""
    if not float(seconds).is_integer():
        return f"{seconds:g}s"
    remaining, parts = int(seconds), []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, int(_DURATION_UNITS[unit]))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def format_size(count: int) -> str:
    """1073741824 -> '1GiB', 2000000000 -> '2GB', 1234 -> '1234B': exact, never rounded."""
    exact = [(factor, unit) for unit, factor in (_IEC | _SI).items() if count % factor == 0]
    if not count or not exact:
        return f"{count}B"
    factor, unit = max(exact)  # the biggest unit gives the shortest number
    return f"{count // factor}{_UNIT_NAMES.get(unit, unit.title())}B"


def toml_string(value: str) -> str:
    """A TOML string: "plain" when nothing needs escaping, 'literal' for backslashes (regexes
    stay readable), else "escaped"."""
    plain = value.isprintable()
    if plain and '"' not in value and "\\" not in value:
        return f'"{value}"'
    if plain and "'" not in value:
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def toml_key(key: str, *, quote: bool = False) -> str:
    """A TOML key: bare when it can be, quoted otherwise (or always, with `quote`)."""
    return key if _BARE_KEY.match(key) and not quote else json.dumps(key, ensure_ascii=False)


def toml_value(value: object) -> str:
    """A TOML literal for a plain value (bool, number, string, path, list)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return toml_string(str(value))
