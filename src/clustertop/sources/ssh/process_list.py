"""A host's process list, sorted: the last frame's tuple while every Process in it is the same."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

from clustertop.model import Container, Process, by_cpu_then_memory
from clustertop.model.attribution import Attribution
from clustertop.model.owners import OwnerRule
from clustertop.sources.ssh.proc_table import ProcessRows
from clustertop.sources.ssh.sections import ProcRow, ProcsReading

_Inputs = tuple[
    tuple[int | None, float | None],
    list[ProcRow],
    list[Attribution | None],
    Sequence[Container],
]


class ProcessList:
    """Builds each frame's processes (ProcessRows keeps unchanged rows' Process objects) and
    sorts them only when one of them changed."""

    __slots__ = ("_inputs", "_made", "_rows", "_sorted")

    def __init__(self, page_size: int, rule: OwnerRule) -> None:
        self._rows = ProcessRows(page_size, rule)
        self._made: list[Process] = []
        self._sorted: tuple[Process, ...] = ()
        self._inputs: _Inputs | None = None
        """What the last build read: its rows as they stood after it."""

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
        if self._same_inputs(procs, total, containers):
            return self._sorted  # ProcessRows would give every row's last Process back
        made = self._rows.build(procs, total, containers, start_time)
        last = self._made
        if len(made) != len(last) or any(a is not b for a, b in zip(made, last, strict=True)):
            self._made, self._sorted = made, tuple(by_cpu_then_memory(made))
        basis = (total, procs.btime)
        self._inputs = (basis, [*procs.rows.values()], _found(procs), containers)
        return self._sorted

    def _same_inputs(
        self, procs: ProcsReading, total: int | None, containers: Sequence[Container]
    ) -> bool:
        # Between full scans a quiet host's reading holds the very rows of the last one. Rows
        # by identity (ProcessRows makes an equal row the one it holds: keep that), the rest
        # equal, as ProcessRows compares them.
        if self._inputs is None:
            return False
        basis, rows, found, ctrs = self._inputs
        now = procs.rows.values()
        return (
            basis == (total, procs.btime)
            and len(now) == len(rows)
            and all(map(operator.is_, now, rows))
            and _found(procs) == found
            and (containers is ctrs or tuple(containers) == tuple(ctrs))
        )


def _found(procs: ProcsReading) -> list[Attribution | None]:
    """Each row's attribution, in row order: all of the attributions that ProcessRows reads."""
    get = procs.attributions.get
    return [get(pid) for pid in procs.rows]
