"""SnapshotStore: which hosts changed since the last repaint, and when a whole tick has come."""

from __future__ import annotations

import dataclasses
import random

from clustertop.model import HostSnapshot, HostState, Section
from clustertop.ui.store import SnapshotStore
from tests.ui.helpers import host


def test_a_first_reading_is_whole_only_when_every_host_waiting_for_one_came() -> None:
    store = SnapshotStore(["a", "b", "c"], 0.0)
    store.put(host("a"))
    # The first slice of a large fleet's first reading: not yet the whole reading.
    assert not store.every_up_host_changed
    store.put(host("b"))
    assert not store.every_up_host_changed
    store.put(dataclasses.replace(host("c"), state=HostState.TIMEOUT))
    assert store.every_up_host_changed
    assert store.take_dirty() == {"a", "b", "c"}
    store.put(host("a"))
    assert not store.every_up_host_changed
    store.put(host("b"))
    assert store.every_up_host_changed  # c is down: the tick is whole


def test_a_tick_is_whole_when_every_up_host_changed_down_ones_aside() -> None:
    store = SnapshotStore(["a", "b", "c"], 0.0)
    store.put(host("a"))
    store.put(host("b"))
    store.put(dataclasses.replace(host("c"), state=HostState.UNREACHABLE))
    store.take_dirty()
    store.put(host("a"))
    assert not store.every_up_host_changed
    store.put(host("b"))
    assert store.every_up_host_changed  # c is down: nothing more to wait for


def test_a_host_connecting_again_is_waited_for() -> None:
    store = SnapshotStore(["a", "b"], 0.0)
    store.put(host("a"))
    store.put(host("b"))
    store.take_dirty()
    store.put(dataclasses.replace(host("b"), state=HostState.CONNECTING))
    store.take_dirty()
    store.put(host("a"))
    assert not store.every_up_host_changed
    store.put(host("b"))
    assert store.every_up_host_changed


def _shows_age(snap: HostSnapshot, now: float, interval: float) -> bool:
    """The rule the app's age tick had, host by host (the reference)."""
    if snap.state is HostState.CONNECTING:
        return False
    return not snap.is_up or bool(snap.stale) or now - snap.time > 2 * interval


def test_hosts_showing_an_age_are_those_of_the_host_by_host_rule() -> None:
    rng = random.Random(3)
    names = [f"h{i}" for i in range(40)]
    store = SnapshotStore(names, 0.0)
    states = (HostState.UP, HostState.UP, HostState.UP, HostState.TIMEOUT, HostState.CONNECTING)
    now, interval = 100.0, 5.0
    for _ in range(300):
        now += rng.choice((0.0, 0.5, 1.0, 7.0))
        for name in rng.sample(names, rng.randint(0, 10)):
            snap = host(name)
            changes: dict[str, object] = {"state": rng.choice(states)}
            changes["time"] = now - rng.choice((0.0, 1.0, 9.0, 11.0, 30.0))
            if rng.random() < 0.1:
                changes["stale"] = {next(iter(Section)): now - 20.0}
            store.put(dataclasses.replace(snap, **changes))  # type: ignore[arg-type]
        expected = {s.name for s in store.all() if _shows_age(s, now, interval)}
        found = store.aging(now - 2 * interval)
        assert sorted(found) == sorted(expected)  # once each
