"""An hour of made-up past for the demo cluster, so charts and sparklines have something to show."""

from __future__ import annotations

import dataclasses
import math

from clustertop.analysis.history import History
from clustertop.sources.demo.source import DemoSource

DEFAULT_POINTS = 120
"""Readings per host put into the history (one every 30 s over an hour)."""


def fill_history(
    source: DemoSource, history: History, *, points: int = DEFAULT_POINTS, span: float | None = None
) -> None:
    """Add `points` readings per host, evenly over `span` seconds (default: the history window)
    ending at the source's clock; ticks before 0 replay the demo's drift backwards in time.

    A reading fills every history bucket until the next one, so the charts have no gaps
    (making 360 demo snapshots per host would take seconds). Only the history is fed: stale
    containers and alerts keep judging the live readings.
    """
    span = history.window_s if span is None else span
    now = source.clock()
    step = span / points
    repeats = max(1, math.ceil(step / history.resolution_s))
    for back in range(points - 1, -1, -1):
        when = now - back * step
        for snap in source.snapshots(source.tick - back):
            for earlier in range(repeats - 1, -1, -1):  # oldest first: history drops the past
                moment = when - earlier * history.resolution_s
                history.add(dataclasses.replace(snap, time=moment))
