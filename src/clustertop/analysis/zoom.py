"""Zoom levels of the history: the live window (1 h) plus 24 h and 7 d, filled from the past."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from clustertop.analysis.history import History
from clustertop.model import HostSnapshot

LONGER_WINDOWS = (86400.0, 7 * 86400.0)
"""Windows besides the live one: 24 hours and 7 days."""
PENDING_CAP = 200_000
"""Live readings held for a level while its past loads; beyond this, the oldest are dropped."""

Past = Callable[[float, float], Iterable[HostSnapshot]]
"""Readings from before now for a (window_s, resolution_s): Source.past_snapshots, the store."""


def window_label(window_s: float) -> str:
    """3600 -> '1h', 86400 -> '24h', 604800 -> '7d', 1800 -> '30m'."""
    if window_s >= 2 * 86400 and window_s % 86400 == 0:
        return f"{int(window_s // 86400)}d"
    if window_s >= 3600 and window_s % 3600 == 0:
        return f"{int(window_s // 3600)}h"
    return f"{round(window_s / 60)}m"


@dataclass(slots=True)
class ZoomLevel:
    """One window of history; a longer one keeps live readings aside until its past is in."""

    history: History
    """Its series."""
    pending: list[HostSnapshot] | None = field(default_factory=list)
    """Live readings waiting for the past to load (None: loaded, readings go straight in)."""

    @property
    def label(self) -> str:
        """How the window reads ('24h')."""
        return window_label(self.history.window_s)


class HistoryZoom:
    """The live history and longer windows, one of them on show (cycled by a key)."""

    def __init__(self, base: History, longer: Iterable[float] = LONGER_WINDOWS) -> None:
        self.levels = [ZoomLevel(base, None)]
        """Shortest first; the first is the live history, fed by the analysis itself."""
        self.levels += [
            ZoomLevel(History(window, base.resolution_s))
            for window in longer
            if window > base.window_s
        ]
        self.index = 0
        """The level on show."""

    @property
    def current(self) -> History:
        """The history on show."""
        return self.levels[self.index].history

    @property
    def label(self) -> str:
        """Its window ('1h')."""
        return self.levels[self.index].label

    def cycle(self) -> str:
        """Show the next level (after the longest, the shortest again); its label."""
        self.index = (self.index + 1) % len(self.levels)
        return self.label

    def add(self, snap: HostSnapshot) -> None:
        """Feed one live reading to the longer levels (the base is fed by the analysis)."""
        for level in self.levels[1:]:
            if level.pending is None:
                level.history.add(snap)
            else:
                if len(level.pending) >= PENDING_CAP:
                    del level.pending[: PENDING_CAP // 10]
                level.pending.append(snap)

    def load(self, pasts: Iterable[Past]) -> list[History]:
        """New histories of the longer levels, filled from `pasts` (slow: run it in a thread)."""
        loaded = []
        for level in self.levels[1:]:
            history = History(level.history.window_s, level.history.resolution_s)
            for past in pasts:
                for snap in past(history.window_s, history.resolution_s):
                    history.add(snap)
            loaded.append(history)
        return loaded

    def finish(self, loaded: list[History]) -> None:
        """Put loaded histories in place, with the live readings that came meanwhile."""
        for level, history in zip(self.levels[1:], loaded, strict=True):
            for snap in level.pending or ():
                history.add(snap)
            level.history, level.pending = history, None
