"""Whether two readings of a host differ in more than when they were taken."""

from __future__ import annotations

from dataclasses import fields, replace

from clustertop.model import HostSnapshot

_TIMES = frozenset(("time", "data_time", "state_since"))
_COMPARED = tuple(f.name for f in fields(HostSnapshot) if f.name not in _TIMES)


def same_but_time(a: HostSnapshot, b: HostSnapshot) -> bool:
    """True when `a` and `b` hold the same readings (their times aside). Parts that are the
    same object compare at once: a source that keeps unchanged parts makes this cheap."""
    for name in _COMPARED:
        x, y = getattr(a, name), getattr(b, name)
        if x is not y and x != y:
            return False
    return True


def keep_unchanged(before: HostSnapshot | None, now: HostSnapshot) -> HostSnapshot:
    """`now`, made of `before`'s parts when only its times moved on (so later comparisons of
    the two are identity checks)."""
    if before is None or not same_but_time(before, now):
        return now
    return replace(before, time=now.time, data_time=now.data_time, state_since=now.state_since)
