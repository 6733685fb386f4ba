"""The cyclic garbage collector's pace for a process that holds a connection per host."""

from __future__ import annotations

import gc

FLEET_HOSTS = 200
"""From this many hosts on, the first generation is collected less often."""
FLEET_GEN0 = 50_000
"""Its threshold then (CPython's default is 700)."""
_DEFAULT_GEN0 = 700


def pace_for_hosts(hosts: int) -> bool:
    """Collect the youngest generation every FLEET_GEN0 allocations instead of 700, for a
    large fleet, unless someone already chose a threshold; True when it was changed.

    Connecting a thousand hosts keeps millions of objects (connections, readings, history):
    at the default pace the collector went through them again and again, about a fifth of the
    client's CPU until every host was up. Cyclic garbage now waits a little longer (at most
    this many objects); nothing else changes.
    """
    gen0, gen1, gen2 = gc.get_threshold()
    if hosts < FLEET_HOSTS or gen0 != _DEFAULT_GEN0:
        return False
    gc.set_threshold(FLEET_GEN0, gen1, gen2)
    return True
