"""Block-character charts of history series: one-line sparklines and taller column charts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from clustertop.analysis.history import Point

_EIGHTHS = " ▁▂▃▄▅▆▇█"
"""A cell filled to 0/8 .. 8/8 from the bottom."""

Columns = list[float | None]
"""One value per chart column, oldest first; None where nothing was recorded."""


def column_span(window_s: float, width: int) -> float:
    """Seconds each of `width` columns covers when the chart shows `window_s` seconds."""
    return window_s / max(width, 1)


def aligned_end(now: float, span: float) -> float:
    """The chart's right edge: `now` rounded up to a whole column, so columns do not shift
    by a fraction every tick (a point stays in the same column until it scrolls off)."""
    return math.ceil(now / span) * span


def resample(points: Iterable[Point], end: float, span: float, width: int) -> Columns:
    """Mean of the known values in each column; column i covers [end - (width - i) * span,
    end - (width - i - 1) * span). Points outside the chart are ignored."""
    sums = [0.0] * width
    counts = [0] * width
    start = end - width * span
    for when, value in points:
        if value is None or when < start or when >= end:
            continue
        index = min(int((when - start) / span), width - 1)
        sums[index] += value
        counts[index] += 1
    return [total / count if count else None for total, count in zip(sums, counts, strict=True)]


def mean_columns(series: Sequence[Columns]) -> Columns:
    """Column-wise mean of several resampled series (e.g. every GPU of a host)."""
    if not series:
        return []
    result: Columns = []
    for values in zip(*series, strict=True):
        known = [value for value in values if value is not None]
        result.append(sum(known) / len(known) if known else None)
    return result


def _eighths(value: float, top: float, height: int) -> int:
    """How many eighths of a cell the value fills, over a chart `height` cells tall."""
    share = min(max(value / top, 0.0), 1.0) if top > 0 else 0.0
    return round(share * height * 8)


def sparkline(values: Columns, top: float, missing: str = " ") -> str:
    """One character per column, scaled 0..`top`; a known 0 still shows as ▁ (data, not a gap)."""
    chars = []
    for value in values:
        if value is None:
            chars.append(missing)
        else:
            chars.append(_EIGHTHS[max(_eighths(value, top, 1), 1)])
    return "".join(chars)


def column_chart(values: Columns, top: float, height: int) -> list[str]:
    """`height` lines, top line first: each column a bar from the bottom, eight steps a cell."""
    filled = [None if value is None else max(_eighths(value, top, height), 1) for value in values]
    lines = []
    for row in range(height - 1, -1, -1):  # the top row first
        floor = row * 8
        chars = []
        for amount in filled:
            if amount is None:
                chars.append(" ")
            else:
                chars.append(_EIGHTHS[min(max(amount - floor, 0), 8)])
        lines.append("".join(chars))
    return lines


def time_axis(width: int, window_s: float) -> str:
    """'60m ago' at the left, '30m' in the middle, 'now' at the right, spaced to `width`."""
    left = f"{_ago(window_s)} ago"
    middle = _ago(window_s / 2)
    right = "now"
    if width < len(left) + len(middle) + len(right) + 4:
        return f"{left:<{max(width - len(right), 0)}}{right}"[:width]
    centre = width // 2 - len(middle) // 2
    line = left + " " * (centre - len(left)) + middle
    return line + " " * (width - len(line) - len(right)) + right


def _ago(seconds: float) -> str:
    """Minutes up to two hours, hours up to two days, then days: '60m', '12h', '3.5d'."""
    if seconds <= 2 * 3600:
        return f"{round(seconds / 60)}m"
    if seconds <= 2 * 86400:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 86400:g}d"
