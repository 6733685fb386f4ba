"""An hour of made-up past for the demo cluster, so charts and sparklines have something to show."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator

from clustertop.model import HostSnapshot

DEFAULT_POINTS = 120
"""Readings per host in the made-up past (one every 30 s over an hour)."""


def made_up_past(
    snapshots: Callable[[int], list[HostSnapshot]],
    tick: int,
    now: float,
    *,
    window_s: float,
    resolution_s: float,
    points: int = DEFAULT_POINTS,
) -> Iterator[HostSnapshot]:
    """`points` readings per host, evenly over `window_s` seconds ending at `now`, oldest first;
    ticks before `tick` (even below 0) replay the demo's drift backwards in time.

    Each reading is repeated once per `resolution_s` until the next one, so the charts have no
    gaps (making 360 demo snapshots per host would take seconds).
    """
    step = window_s / points
    repeats = max(1, math.ceil(step / resolution_s))
    for back in range(points - 1, -1, -1):
        when = now - back * step
        for snap in snapshots(tick - back):
            for earlier in range(repeats - 1, -1, -1):  # oldest first: history drops the past
                moment = when - earlier * resolution_s
                yield dataclasses.replace(snap, time=moment)
