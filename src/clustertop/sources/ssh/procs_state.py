"""A host's procs section over frames: partial readings, arguments sent once, CPU between."""

from __future__ import annotations

from clustertop.model import Cpu
from clustertop.parsers.procfs import CpuSample, cpu_between
from clustertop.sources.ssh.attrib import row_attributions, sent_before
from clustertop.sources.ssh.sections import (
    ProcRow,
    ProcsReading,
    over_before,
    read_procs,
    replace_procs,
)


class ProcsState:
    """What the procs readings so far mean: each new one is read against them."""

    __slots__ = ("_known", "_prev_cpu", "btime", "cpu")

    def __init__(self) -> None:
        self.btime: float | None = None
        """Boot time (unix s), from the last reading that had it."""
        self.cpu: Cpu | None = None
        """CPU use between the last two readings with counters."""
        self._known: ProcsReading | None = None
        """The last good reading with every row since the last full scan: what "=" means."""
        self._prev_cpu: CpuSample | None = None

    def read(self, text: str, before: ProcsReading | None) -> ProcsReading:
        """The section's text as a whole reading; `before` is the slot's last good one (None
        when there is none or the last run failed)."""
        reading = _kept(self._with_known_args(read_procs(text)), before)
        known, self._known = self._known, reading
        if reading.keep and before is None and known is not None:
            # The slot lost its rows to a failed reading; "=" still means what came before.
            self._known = over_before(known, reading)
        self.btime = reading.btime if reading.btime is not None else self.btime
        if reading.cpu is not None:
            if self._prev_cpu is not None:
                self.cpu = cpu_between(self._prev_cpu, reading.cpu)
            self._prev_cpu = reading.cpu
        return reading

    def _with_known_args(self, reading: ProcsReading) -> ProcsReading:
        # The probe sends a process's arguments once; "=" stands for the ones it sent before.
        before = self._known
        by_pid = row_attributions(reading, before)
        rows = reading.rows
        for pid, row in rows.items():
            if row.command == "=":  # same keys: replacing values while iterating is safe
                rows[pid] = _with_command(row, sent_before(before, pid, row.start_ticks))
        # The `a` lines are read: the reading kept until the next one needs only what they say.
        return replace_procs(reading, attributions=by_pid, cgroups={})


def _kept(reading: ProcsReading, before: ProcsReading | None) -> ProcsReading:
    # Between full scans the probe re-reads only some processes and no container usage;
    # the rest stay as they were.
    if not reading.keep or before is None:
        return reading
    return over_before(before, reading)


def _with_command(row: ProcRow, command: str) -> ProcRow:
    # Positional: dataclasses.replace costs several times as much, on every "=" row of a tick.
    return ProcRow(
        row.pid, row.cpu_percent, row.rss_pages, row.start_ticks, row.container_id, row.comm,
        row.user, command,
    )  # fmt: skip
