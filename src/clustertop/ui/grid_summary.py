"""The grid's summary line, counted again only for the hosts whose snapshot changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from clustertop.analysis.free_gpus import DEFAULT_MEMORY_MIB, DEFAULT_UTIL_PERCENT
from clustertop.analysis.mig import free_whole_gpus
from clustertop.model import HostSnapshot, HostState
from clustertop.ui.columns import summary_line
from clustertop.ui.grid_sort import busy_gpus, free_units, running_containers

Counts = tuple[int, int, int, int, int, int]
"""One host's part of the summary: up, connecting, busy GPUs, free GPUs, MIG units, running
containers."""


def host_counts(snap: HostSnapshot) -> Counts:
    """What `snap` adds to the summary line (columns.summary_line's counts)."""
    if not snap.is_up:
        return (0, 1 if snap.state is HostState.CONNECTING else 0, 0, 0, 0, 0)
    running = running_containers(snap)
    free = free_whole_gpus(snap, memory_mib=DEFAULT_MEMORY_MIB, util_percent=DEFAULT_UTIL_PERCENT)
    if free is not None:
        return (1, 0, len(snap.gpus) - free, free, 0, running)
    units = busy_gpus(snap)
    free = free_units(units)
    mig = sum(1 for unit, _ in units if unit.instance is not None)
    return (1, 0, len(units) - free, free, mig, running)


class SummaryCounts:
    """The summary line of a store's snapshots, each host counted again only when its snapshot
    is a new object: 5,000 hosts then cost an identity check each per repaint."""

    def __init__(self) -> None:
        self._hosts: dict[str, tuple[HostSnapshot, Counts]] = {}
        self._totals = [0] * 6

    def text(
        self, snaps: Sequence[HostSnapshot], stale_count: int, alerts: int, shown: int | None
    ) -> Text:
        """The summary line of `snaps` (every host the grid knows)."""
        hosts = self._hosts
        if len(hosts) > len(snaps):  # hosts left: count every host again
            self._reset()
        totals = self._totals
        for snap in snaps:
            known = hosts.get(snap.name)
            if known is not None and known[0] is snap:
                continue
            counts = host_counts(snap)
            before = known[1] if known is not None else _NONE
            for index in range(6):
                totals[index] += counts[index] - before[index]
            hosts[snap.name] = (snap, counts)
        if len(hosts) != len(snaps):  # a name twice, or one host for another: not kept
            self._reset()
            totals = [sum(column) for column in zip(*map(host_counts, snaps), strict=True)]
        up, waiting, busy, free, mig, running = totals or _NONE
        line = (len(snaps), up, waiting, busy, free, mig, running)
        return summary_line(line, stale_count, alerts, shown)

    def _reset(self) -> None:
        self._hosts.clear()
        self._totals = [0] * 6


_NONE: Counts = (0, 0, 0, 0, 0, 0)
