"""A host's process list, sorted: the last frame's tuple while every Process in it is the same."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clustertop.model import Container, Process, by_cpu_then_memory
from clustertop.model.owners import OwnerRule
from clustertop.sources.ssh.proc_table import ProcessRows
from clustertop.sources.ssh.sections import ProcsReading


class ProcessList:
    """Builds each frame's processes (ProcessRows keeps unchanged rows' Process objects) and
    sorts them only when one of them changed."""

    __slots__ = ("_made", "_rows", "_sorted")

    def __init__(self, page_size: int, rule: OwnerRule) -> None:
        self._rows = ProcessRows(page_size, rule)
        self._made: list[Process] = []
        self._sorted: tuple[Process, ...] = ()

    def build(
        self,
        procs: ProcsReading | None,
        total: int | None,
        containers: Sequence[Container],
        start_time: Callable[[int], float | None],
    ) -> tuple[Process, ...]:
        """The processes by CPU then memory (see ProcessRows.build for the arguments)."""
        if procs is None:
            return ()
        made = self._rows.build(procs, total, containers, start_time)
        last = self._made
        if len(made) != len(last) or any(a is not b for a, b in zip(made, last, strict=True)):
            self._made, self._sorted = made, tuple(by_cpu_then_memory(made))
        return self._sorted
