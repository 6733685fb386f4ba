"""A table row whose cells are made only when something needs them (drawn, read or acted on)."""

from __future__ import annotations

from collections.abc import Callable

from clustertop.ui.widgets.cells import Cell, SortKey


def _made() -> tuple[Cell, ...]:
    raise AssertionError("a LazyRow makes its cells once")


class LazyRow:
    """Stands for a RowData (same `key`, `target`, `cells`, `text()`, `sort_key()`), its cells
    made on first use: a large fleet's reading then costs a few objects per host off screen,
    not twelve cells (KeyedTable keeps such rows behind until they are drawn or read)."""

    __slots__ = ("_cells", "_make", "_sort", "key", "target")

    def __init__(
        self,
        key: str,
        target: object,
        make: Callable[[], tuple[Cell, ...]],
        sort: Callable[[int], SortKey],
    ) -> None:
        self.key = key
        """Identity of the row."""
        self.target = target
        """The model object behind the row (its cells, once made, show it)."""
        self._make = make
        self._sort = sort
        self._cells: tuple[Cell, ...] | None = None

    @property
    def built(self) -> bool:
        """True once the cells are made."""
        return self._cells is not None

    @property
    def cells(self) -> tuple[Cell, ...]:
        """The row's cells, made now if they were not yet."""
        cells = self._cells
        if cells is None:
            cells = self._cells = self._make()
            self._make = _made  # what it held (a snapshot, a context) is not needed again
        return cells

    def sort_key(self, index: int) -> SortKey:
        """What cell `index` sorts by, without making the cells (equal to cells[index]'s)."""
        cells = self._cells
        return cells[index].sort_key if cells is not None else self._sort(index)

    def text(self) -> str:
        """All the row's text, lower-cased, for substring filters (makes the cells)."""
        return " ".join(cell.plain for cell in self.cells).lower()
