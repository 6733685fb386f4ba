"""A host's process list from its procs reading: rows that did not change keep their Process."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from clustertop.model import Container, Process
from clustertop.model.attribution import Attribution
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.sources.attribute import attribute
from clustertop.sources.attribute import container_ref as pod_container_ref
from clustertop.sources.ssh.attrib import docker_ref
from clustertop.sources.ssh.sections import ProcRow, ProcsReading
from clustertop.util.strpool import share


class ProcessRows:
    """Builds each frame's processes, reusing the last frame's Process of an unchanged row."""

    __slots__ = ("_basis", "_cache", "_page_size", "_rule")

    def __init__(self, page_size: int = 4096, rule: OwnerRule = DEFAULT_RULE) -> None:
        self._page_size = page_size  # bytes per page: rows count RSS in pages
        self._rule = rule
        self._cache: dict[int, tuple[object, ...]] = {}
        """PID -> (row, container, attribution, Process) of the last frame."""
        self._basis: tuple[int | None, float | None] = (None, None)
        """Memory total and boot time the cached Processes were made with."""

    def build(
        self,
        procs: ProcsReading,
        total: int | None,
        containers: Sequence[Container],
        start_time: Callable[[int], float | None],
    ) -> list[Process]:
        """The processes in reading order; `total` is the host's memory, `start_time` turns a
        row's start ticks into a unix time."""
        by_id = {c.id: c for c in containers}
        names = {c.id: c.name for c in containers}
        if self._basis != (total, procs.btime):  # every row's percent or start time moved
            self._basis, self._cache = (total, procs.btime), {}
        result = []
        cache: dict[int, tuple[object, ...]] = {}
        # A full scan attributes every process; most share a cgroup and a user, and with the
        # frame's containers fixed the answer is the same for all of them: work it out once.
        resolved: dict[tuple[int, str | None], Attribution | None] = {}
        rows = procs.rows
        for row in rows.values():
            found = procs.attributions.get(row.pid)
            # Between full scans most rows are the same as last frame's: reuse their Process.
            ctr = by_id.get(row.container_id or "")
            known = self._cache.get(row.pid)
            if known is not None and known[:3] == (row, ctr, found):
                # The reading keeps the equal row it already had: one copy of each row is held,
                # not last frame's (in the cache) and this frame's (in the reading).
                rows[row.pid] = cast(ProcRow, known[0])
                cache[row.pid] = known
                result.append(cast(Process, known[3]))
                continue
            user, command = row.user, row.command
            memo = (id(found), user)  # `found` lives in `procs` for the whole loop
            if memo in resolved:
                attributed = resolved[memo]
            else:
                attributed = resolved[memo] = attribute(found, user, by_id, self._rule)
            rss = row.rss_pages * self._page_size
            process = Process(
                pid=row.pid,
                user=user,
                cpu_percent=row.cpu_percent,
                memory_percent=100.0 * rss / total if total else None,
                memory_rss=rss,
                start_time=start_time(row.start_ticks),
                command=command or share(f"[{row.comm}]"),  # kernel threads: one copy
                container=docker_ref(row.container_id, found, names)
                or pod_container_ref(attributed, by_id),
                attribution=attributed,
            )
            cache[row.pid] = (row, ctr, found, process)  # one tuple a row
            result.append(process)
        self._cache = cache
        return result
