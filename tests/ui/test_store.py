"""SnapshotStore: which hosts changed since the last repaint, and when a whole tick has come."""

from __future__ import annotations

import dataclasses

from clustertop.model import HostState
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
