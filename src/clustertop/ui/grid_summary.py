"""The grid's summary line, counted again only for the hosts whose snapshot changed."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from clustertop.analysis.free_gpus import DEFAULT_MEMORY_MIB, DEFAULT_UTIL_PERCENT
from clustertop.analysis.mig import processes_by_gpu
from clustertop.model import MIB, HostSnapshot, HostState
from clustertop.ui.columns import busy_gpus, summary_line

Counts = tuple[int, int, int, int, int, int]
"""One host's part of the summary: up, connecting, busy GPUs, free GPUs, MIG units, running
containers."""


def host_counts(snap: HostSnapshot) -> Counts:
    """What `snap` adds to the summary line (columns.summary_line's counts)."""
    if not snap.is_up:
        return (0, 1 if snap.state is HostState.CONNECTING else 0, 0, 0, 0, 0)
    running = sum(1 for ctr in snap.containers if ctr.state == "running")
    free = _free_whole_gpus(snap)
    if free is not None:
        return (1, 0, len(snap.gpus) - free, free, 0, running)
    units = busy_gpus(snap)
    busy = sum(1 for _, is_busy in units if is_busy)
    mig = sum(1 for unit, _ in units if unit.instance is not None)
    return (1, 0, busy, len(units) - busy, mig, running)


_MEMORY_LIMIT = DEFAULT_MEMORY_MIB * MIB


def _free_whole_gpus(snap: HostSnapshot) -> int | None:
    """How many of a host's GPUs busy_gpus calls free, when none has MIG instances (None:
    some has). The rule of analysis.mig.unit_state for a whole GPU, without a unit object
    per GPU: every GPU of a large fleet's reading is new, and this was most of the summary's
    cost (tests/ui/test_grid_lazy.py checks it against busy_gpus)."""
    gpus = snap.gpus
    if any(gpu.mig_instances for gpu in gpus):
        return None
    taken = processes_by_gpu(snap) if snap.gpu_processes else {}
    free = 0
    for position, gpu in enumerate(gpus):
        util, used = gpu.util_percent, gpu.memory_used
        if position in taken or util is None or used is None or gpu.error:
            continue  # busy, or not known to be free
        if not (util > DEFAULT_UTIL_PERCENT or used > _MEMORY_LIMIT):  # NaN: as unit_state
            free += 1
    return free


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
