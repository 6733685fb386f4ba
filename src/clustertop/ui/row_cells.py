"""Cells the host screen's panes share: text or a dim dash, sizes and rates sorted by value."""

from __future__ import annotations

from clustertop.ui.widgets.cells import DIM, Cell, number_cell, text_cell
from clustertop.util.units import human_bytes, rate


def dash_or(text: str | None) -> Cell:
    """`text`'s cell, or a dim dash where there is none (empty counts as none)."""
    return text_cell(text) if text else Cell("-", DIM)


def bytes_cell(value: int | None) -> Cell:
    """A size in bytes, shown human-sized and sorted by the number."""
    return number_cell(human_bytes(value), None if value is None else float(value))


def rate_cell(value: float | None) -> Cell:
    """A rate in bytes per second, shown human-sized and sorted by the number."""
    return number_cell(rate(value), value)
