"""A reading's snapshots given to the sink: in slices, each with the start of its state."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from clustertop.model import HostSnapshot, HostState
from clustertop.model.fast import replacer
from clustertop.sources.base import SnapshotSink
from clustertop.sources.prometheus.client import no_gc

SINK_SLICE_S = 0.01
"""Longest the event loop is held giving a reading's snapshots to the sink before others run."""
REPAINT_ROOM_S = 0.3
"""How long after a reading's last snapshot the collector stays paused: the UI's repaint of it
(spaced at most 0.25 s from the last) and its display come first."""


async def deliver(
    snaps: Sequence[HostSnapshot],
    since: dict[str, tuple[HostState, float]],
    sink: SnapshotSink,
) -> None:
    """Give a reading's snapshots to the sink, in slices, with the cyclic collector paused:
    the reading's decoding had it paused too, and resumed, it would rescan the whole fleet's
    new records between the sink's first slice and the repaint that shows them all (a full
    collection: 0.2 s at 5,000 x 8 before the first full grid). It runs after, in the
    interval's wait."""
    with no_gc():
        turn = time.perf_counter() + SINK_SLICE_S
        for snap in snaps:
            state, first = since.get(snap.name, (snap.state, snap.time))
            if state is not snap.state:
                first = snap.time
            since[snap.name] = (snap.state, first)
            sink(_with_since(snap, first))
            if time.perf_counter() > turn:
                # The sink (the UI's analysis) takes 5,000 snapshots in about 0.5 s: keys
                # and repaints get the loop between slices instead of after them all.
                await asyncio.sleep(0)
                turn = time.perf_counter() + SINK_SLICE_S
        await asyncio.sleep(REPAINT_ROOM_S)  # the repaint that shows the reading


_REPLACE = replacer(HostSnapshot)
"""dataclasses.replace, cheaper: every host's snapshot is given its state's start each reading."""


def _with_since(snap: HostSnapshot, since: float) -> HostSnapshot:
    return _REPLACE(snap, state_since=since)


__all__ = ["REPAINT_ROOM_S", "SINK_SLICE_S", "deliver"]
