"""Marked rows of the host screen's panes: kept by row identity, dropped when the row goes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style

from clustertop.ui.widgets.cells import Cell
from clustertop.ui.widgets.table_sync import RowData

MARK = "● "
"""Shown in front of a marked row's first cell."""
MARK_STYLE = Style(color="magenta", bold=True)
"""Style of the mark."""


class Marks:
    """Row keys marked per pane; a key is a row's identity (container ID, pid:start)."""

    def __init__(self) -> None:
        self._keys: dict[str, set[str]] = {}

    def toggle(self, pane: str, key: str) -> bool:
        """Mark the row `key` of `pane`, or unmark it; True when it is marked now."""
        keys = self._keys.setdefault(pane, set())
        if key in keys:
            keys.discard(key)
            return False
        keys.add(key)
        return True

    def keys(self, pane: str) -> frozenset[str]:
        """The marked rows of `pane`."""
        return frozenset(self._keys.get(pane, ()))

    def clear(self, pane: str | None = None) -> None:
        """Unmark every row of `pane` (None: of every pane)."""
        if pane is None:
            self._keys.clear()
        else:
            self._keys.pop(pane, None)

    def keep_only(self, pane: str, existing: Iterable[str]) -> None:
        """Drop the marks of rows no longer in `pane` (a removed container, an ended process)."""
        keys = self._keys.get(pane)
        if keys:
            keys.intersection_update(existing)

    def decorate(self, pane: str, rows: Sequence[RowData]) -> list[RowData]:
        """`rows` with a mark in front of the first cell of each marked one."""
        keys = self._keys.get(pane)
        if not keys:
            return list(rows)
        return [_marked(row) if row.key in keys else row for row in rows]


def _marked(row: RowData) -> RowData:
    first = row.cells[0]
    cell = Cell(MARK, MARK_STYLE, first.sort_key).add(first)
    return RowData(row.key, (cell, *row.cells[1:]), row.target)
