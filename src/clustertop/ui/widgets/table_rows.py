"""What a KeyedTable shows: its columns, its rows (made or lazy), and how their keys compare."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.widgets.data_table import RowKey

from clustertop.ui.widgets.cells import Cell, SortKey
from clustertop.ui.widgets.lazy_row import LazyRow


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column of a table: how it is labelled, sized and first sorted."""

    key: str
    """Stable column key."""
    label: str
    """Header text (our own, never host data)."""
    width: int | None = None
    """Fixed width in cells; None sizes to the content."""
    descending: bool = True
    """Direction used when this column is chosen for sorting (numbers: biggest first)."""
    flex: bool = False
    """Takes the width left over by the other columns (only the last column)."""
    drop: int = 0
    """When the table is too narrow for every column, columns with a higher `drop` are hidden
    first (their data stays: sorting by them still works); 0: always shown."""


@dataclass(frozen=True, slots=True)
class RowData:
    """One row to show: its identity, its cells in column order, and the object it shows."""

    key: str
    """Identity of the row (host name, GPU uuid, container id, pid:start)."""
    cells: tuple[Cell, ...]
    """Rendered cells, one per column."""
    target: object
    """The model object behind the row, captured with its cells."""

    def text(self) -> str:
        """All the row's text, lower-cased, for substring filters."""
        return " ".join(cell.plain for cell in self.cells).lower()

    def sort_key(self, index: int) -> SortKey:
        """What cell `index` sorts by."""
        return self.cells[index].sort_key


Row = RowData | LazyRow
"""A row to show: its cells made already, or when first needed."""


def key_text(row_key: RowKey | str) -> str:
    return str(row_key.value) if isinstance(row_key, RowKey) else row_key


def unique_rows(rows: Sequence[Row]) -> dict[str, Row]:
    """Rows by key; a repeated key (masked GPU UUIDs, bind mounts) gets a '#2' suffix."""
    result: dict[str, Row] = {}
    for row in rows:
        key, count = row.key, 1
        while key in result:
            count += 1
            key = f"{row.key}#{count}"
        result[key] = row if key == row.key else RowData(key, row.cells, row.target)
    return result


def compare_keys(a: Any, b: Any, descending: bool) -> int:
    if a == b:
        return 0
    if a is None:
        return 1
    if b is None:
        return -1
    result = -1 if a < b else 1
    return -result if descending else result
