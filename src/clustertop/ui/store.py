"""The UI's copy of the newest snapshot per host, and which hosts changed since the last repaint."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from clustertop.model import HostSnapshot, HostState, placeholder


class SnapshotStore:
    """Newest snapshot per host, in the source's host order, with a set of changed hosts."""

    def __init__(self, host_names: Sequence[str], started: float) -> None:
        self._names: list[str] = list(dict.fromkeys(host_names))
        self._latest: dict[str, HostSnapshot] = {
            name: placeholder(name, HostState.CONNECTING, started) for name in self._names
        }
        self._dirty: set[str] = set(self._names)
        self._up: set[str] = set()
        self._unread: set[str] = set(self._names)
        """Hosts with no reading yet (connecting): a first reading is whole only with them."""
        self._odd: set[str] = set()
        """Hosts that show an age whatever their data's time: down, or with stale sections."""
        self._oldest = math.inf
        """At most the oldest data time of the other hosts read (see `aging`)."""
        self._times: dict[str, float] = {}
        """The snapshot time of each host read that is not odd."""

    @property
    def names(self) -> list[str]:
        """Host names in source order (hosts first seen in a snapshot come last)."""
        return self._names

    def put(self, snap: HostSnapshot) -> None:
        """Keep `snap` as its host's newest snapshot."""
        if snap.name not in self._latest:
            self._names.append(snap.name)
        self._latest[snap.name] = snap
        self._dirty.add(snap.name)
        if snap.state is HostState.CONNECTING:
            self._unread.add(snap.name)
        else:
            self._unread.discard(snap.name)
        if snap.is_up:
            self._up.add(snap.name)
        else:
            self._up.discard(snap.name)
        if snap.state is HostState.CONNECTING:
            self._odd.discard(snap.name)
            self._times.pop(snap.name, None)
        elif not snap.is_up or snap.stale:
            self._odd.add(snap.name)
            self._times.pop(snap.name, None)
        else:
            self._odd.discard(snap.name)
            self._times[snap.name] = snap.time
            self._oldest = min(self._oldest, snap.time)

    def get(self, name: str) -> HostSnapshot | None:
        """The newest snapshot of `name`."""
        return self._latest.get(name)

    def all(self) -> list[HostSnapshot]:
        """Newest snapshot of every host, in host order."""
        return [self._latest[name] for name in self._names]

    def touch(self, names: Iterable[str]) -> None:
        """Mark hosts as changed (their shown ages moved on)."""
        self._dirty.update(name for name in names if name in self._latest)

    def aging(self, cutoff: float) -> list[str]:
        """Hosts whose screens show an age: down, with stale sections, or data from before
        `cutoff` (connecting hosts show none). The data times are looked at only when one
        could be that old, and kept apart (`_times`): at 5,000 hosts a look through their
        snapshots each second was 3-6 ms of the UI's thread."""
        found = list(self._odd)
        if cutoff <= self._oldest:
            return found
        times = self._times
        found += [name for name, at in times.items() if at < cutoff]
        self._oldest = min(times.values(), default=math.inf)
        return found

    def take_dirty(self) -> set[str]:
        """Hosts changed since the last call."""
        dirty, self._dirty = self._dirty, set()
        return dirty

    @property
    def every_up_host_changed(self) -> bool:
        """True when every host that is up changed since the last repaint and none still waits
        for its first reading (a whole tick came). Waiting hosts count so that a large fleet's
        first reading, given to the sink in slices, is not taken as whole after its first
        slice (the placeholders made it look so: all new, none up)."""
        dirty, up = self._dirty, self._up
        return not self._unread and len(dirty) >= len(up) and up <= dirty

    @property
    def has_dirty(self) -> bool:
        """True when a repaint has something to show."""
        return bool(self._dirty)
