"""pdsh/Slurm-style host ranges: `gpu[01-16]`, `r[1-2]n[1-3]`, `gpu[1-3],cpu1`."""

from __future__ import annotations

import itertools
import math
import re

MAX_RANGE_HOSTS = 10_000
"""Most hosts one range expression may expand to (a typo like [1-100000] is an error)."""

_RANGE_ITEM = re.compile(r"([0-9]+)(?:-([0-9]+))?\Z")


class HostSpecError(ValueError):
    """A host, range, group or hosts file that cannot be used; the message names the input."""


_Span = tuple[int, int, int]
"""One numeric run inside brackets: (first, last, zero-padded width)."""


def _spans(content: str, text: str) -> list[_Span]:
    """Parse `01-16,20` into spans; the width of the first number keeps its zero padding."""
    spans: list[_Span] = []
    for part in content.split(","):
        match = _RANGE_ITEM.match(part.strip())
        if match is None:
            raise HostSpecError(
                f"invalid range {text!r}: expected numbers in brackets like [1-4] or "
                f"[01-16,20], got [{content}]"
            )
        first_text, last_text = match.group(1), match.group(2) or match.group(1)
        first, last = int(first_text), int(last_text)
        if last < first:
            raise HostSpecError(f"invalid range {text!r}: {first_text}-{last_text} is reversed")
        spans.append((first, last, len(first_text)))
    return spans


def _pieces(text: str) -> list[str | list[_Span]]:
    """Split text into literal parts and bracket groups; `[...]` holding ':' is IPv6, literal."""
    pieces: list[str | list[_Span]] = []
    position = 0
    while position < len(text):
        start = text.find("[", position)
        stray = text.find("]", position)
        if stray != -1 and (start == -1 or stray < start):
            raise HostSpecError(f"invalid range {text!r}: ']' without '['")
        if start == -1:
            pieces.append(text[position:])
            break
        end = text.find("]", start)
        nested = text.find("[", start + 1)
        if end == -1 or (nested != -1 and nested < end):
            raise HostSpecError(f"invalid range {text!r}: '[' without ']'")
        pieces.append(text[position:start])
        content = text[start + 1 : end]
        if ":" in content:
            pieces.append(text[start : end + 1])
        elif not content.strip():
            raise HostSpecError(f"invalid range {text!r}: empty brackets []")
        else:
            pieces.append(_spans(content, text))
        position = end + 1
    return pieces


def _values(piece: str | list[_Span]) -> list[str]:
    if isinstance(piece, str):
        return [piece]
    return [str(n).zfill(width) for first, last, width in piece for n in range(first, last + 1)]


def expand_ranges(text: str) -> list[str]:
    """`gpu[01-03]` -> gpu01, gpu02, gpu03; several groups expand as a cartesian product, in order.

    Top-level commas are not split here (see `expand_host_list`). A bracket holding ':' is an
    IPv6 address (`[::1]:22`) and stays as it is.
    """
    pieces = _pieces(text)
    sizes = [
        sum(last - first + 1 for first, last, _ in piece)
        for piece in pieces
        if not isinstance(piece, str)
    ]
    total = math.prod(sizes)
    if total > MAX_RANGE_HOSTS:
        raise HostSpecError(
            f"invalid range {text!r}: expands to {total} hosts, more than {MAX_RANGE_HOSTS}"
        )
    return ["".join(parts) for parts in itertools.product(*map(_values, pieces))]


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside brackets: `gpu[1,3],cpu1` -> ['gpu[1,3]', 'cpu1']."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current.append(char)
    parts.append("".join(current))
    return parts


def expand_host_list(text: str) -> list[str]:
    """pdsh-style list: split top-level commas, then expand each part's ranges, in order."""
    expanded: list[str] = []
    for part in _split_top_level(text):
        item = part.strip()
        if not item:
            raise HostSpecError(f"invalid host list {text!r}: empty item between commas")
        expanded.extend(expand_ranges(item))
    return expanded
