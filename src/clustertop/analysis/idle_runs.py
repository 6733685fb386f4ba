"""Idle runs per key (job, pod, MIG instance): when each began and was last seen idle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K")


@dataclass(slots=True)
class IdleRuns(Generic[K]):
    """An idle reading extends a key's run, a busy one ends it, an unknown one does neither."""

    first_idle: dict[K, float] = field(default_factory=dict)
    last_idle: dict[K, float] = field(default_factory=dict)

    def mark(self, key: K, idle: bool | None, now: float) -> None:
        """One reading of `key`: True idle, False busy, None unknown."""
        if idle is False:
            self.first_idle.pop(key, None)
            self.last_idle.pop(key, None)
        elif idle is True:
            self.first_idle.setdefault(key, now)
            self.last_idle[key] = now

    def keep_only(self, seen: Iterable[K]) -> None:
        """End the runs of keys no longer seen."""
        for gone in set(self.first_idle) - set(seen):
            del self.first_idle[gone], self.last_idle[gone]

    def stale(self, stale_after: float) -> dict[K, float]:
        """Keys idle for at least `stale_after` -> when their run began."""
        return {
            key: first
            for key, first in self.first_idle.items()
            if self.last_idle[key] - first >= stale_after
        }
