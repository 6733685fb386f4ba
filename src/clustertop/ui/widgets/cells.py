"""Table cells: Rich Text carrying the value it sorts by, plus bars and severity colours."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from rich.style import Style
from rich.text import Text

from clustertop.util.textsafe import literal
from clustertop.util.units import NA

SortKey = tuple[float | str, ...] | None
"""What a cell sorts by; None (unknown) always sorts last."""

OK = Style(color="green")
"""A healthy value."""
WARN = Style(color="yellow")
"""A value worth a look."""
BAD = Style(color="red", bold=True)
"""A value that needs action."""
DIM = Style(dim=True)
"""Unknown or unimportant."""

_BAR_LEVELS = "▁▂▃▄▅▆▇█"
_NATURAL_PART = re.compile(r"(\d+)")


class Cell(Text):
    """A single-line table cell whose display text sorts by `sort_key` (1.2 GiB sorts by bytes)."""

    def __init__(self, text: str = "", style: str | Style = "", sort_key: SortKey = None) -> None:
        super().__init__(text, style, no_wrap=True, overflow="ellipsis", end="")
        self.sort_key: SortKey = sort_key
        """The underlying value, comparable with the other cells of its column."""

    def add(self, piece: str | Text, style: str | Style = "") -> Cell:
        """Append our own text or an already safe Text piece; returns self for chaining."""
        start = len(self)
        if isinstance(piece, Text):
            self.append_text(piece)
            if style:
                self.stylize(style, start, len(self))
        else:
            self.append(piece, style or None)
        return self

    def same_as(self, other: Cell) -> bool:
        """True when both cells look and sort the same (Text.__eq__ ignores the base style)."""
        return self.looks_like(other) and self.sort_key == other.sort_key

    def looks_like(self, other: Cell) -> bool:
        """True when both cells look the same, whatever they sort by."""
        return self.plain == other.plain and self.style == other.style and self.spans == other.spans


def safe_text(value: object, style: str | Style = "") -> Text:
    """Untrusted `value` as literal Text (see textsafe.literal) in one of our styles."""
    text = literal(value)
    if style:
        text.stylize(style)
    return text


def text_cell(value: object, style: str | Style = "", sort_key: SortKey = None) -> Cell:
    """A cell showing untrusted `value` literally (never markup, escapes made visible)."""
    shown = literal(value)
    key = sort_key if sort_key is not None else (natural_key(shown.plain) if value else None)
    return Cell(sort_key=key).add(shown, style)


def number_cell(shown: str, value: float | None, style: str | Style = "") -> Cell:
    """A right-aligned-looking number that sorts by `value` (N/A sorts last)."""
    return Cell(shown, DIM if value is None else style, None if value is None else (value,))


def na_cell() -> Cell:
    """An unknown value."""
    return Cell(NA, DIM)


def natural_key(text: str) -> tuple[float | str, ...]:
    """Sort key where gpu2 < gpu10: text parts compare as text, digit runs as numbers."""
    parts = _NATURAL_PART.split(text.lower())
    return tuple(float(part) if index % 2 else part for index, part in enumerate(parts))


def severity(value: float | None, warn: float, bad: float, good: Style | str = "") -> Style | str:
    """The style for a value against a yellow and a red threshold."""
    if value is None:
        return DIM
    if value >= bad:
        return BAD
    if value >= warn:
        return WARN
    return good


def level_char(percent: float | None) -> str:
    """One block character for 0-100 (▁ .. █); '?' when unknown (None or NaN)."""
    if percent is None or math.isnan(percent):  # NaN: no level (int() of it raises)
        return "?"
    clamped = min(max(percent, 0.0), 100.0)
    return _BAR_LEVELS[min(int(clamped / 100 * len(_BAR_LEVELS)), len(_BAR_LEVELS) - 1)]


def bar(percent: float | None, width: int = 10) -> Text:
    """A horizontal bar of `width` cells, filled to `percent` (dotted when None or NaN)."""
    if percent is None or math.isnan(percent):
        return Text("·" * width, style=DIM)
    filled = round(min(max(percent, 0.0), 100.0) / 100 * width)
    return Text.assemble(("█" * filled, ""), ("░" * (width - filled), DIM))


def bar_cell(percent: float | None, width: int, warn: float, bad: float, suffix: str = "") -> Cell:
    """A bar plus the percentage, coloured by severity, sorting by the percentage."""
    if percent is None:
        return na_cell()
    style = severity(percent, warn, bad)
    cell = Cell(sort_key=(percent,)).add(bar(percent, width), style)
    return cell.add(f" {percent:3.0f}%{suffix}", style)


def joined(pieces: Sequence[str], limit: int = 3) -> str:
    """'a,b,c' or 'a,b,c+2' when there are more than `limit`."""
    head = ",".join(pieces[:limit])
    return head if len(pieces) <= limit else f"{head}+{len(pieces) - limit}"
