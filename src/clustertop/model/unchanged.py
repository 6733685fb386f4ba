"""Whether two readings of a host differ in more than when they were taken."""

from __future__ import annotations

from dataclasses import fields

from clustertop.model import HostSnapshot
from clustertop.model.fast import replacer

_TIMES = frozenset(("time", "data_time", "state_since", "uptime_s"))
_COMPARED = tuple(f.name for f in fields(HostSnapshot) if f.name not in _TIMES)
BOOT_SLACK_S = 0.001
"""How far two readings' boot instants (time - uptime) may differ and still be the same boot:
a source that works uptime out as `now - boot` gets back `boot` only to float rounding."""


_REPLACE = replacer(HostSnapshot)
"""dataclasses.replace, cheaper (a large fleet keeps most hosts' parts each reading)."""


def _same_boot(a: HostSnapshot, b: HostSnapshot) -> bool:
    """The same uptime but for the time between the readings (uptime moves with the clock)."""
    if a.uptime_s is None or b.uptime_s is None:
        return a.uptime_s is b.uptime_s
    return abs((a.time - a.uptime_s) - (b.time - b.uptime_s)) <= BOOT_SLACK_S


def same_but_time(a: HostSnapshot, b: HostSnapshot) -> bool:
    """True when `a` and `b` hold the same readings (their times, and an uptime that moved on
    with them, aside). Parts that are the same object compare at once: a source that keeps
    unchanged parts makes this cheap."""
    if not _same_boot(a, b):
        return False
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
    return _REPLACE(
        before, time=now.time, data_time=now.data_time, state_since=now.state_since,
        uptime_s=now.uptime_s,
    )  # fmt: skip
