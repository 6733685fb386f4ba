"""The Source contract: a fixed list of hosts, each producing snapshots over time."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from clustertop.model import (
    NOT_TRIED,
    STILL_CONNECTING,
    WAITING_FOR_SLOT,
    HostSnapshot,
    HostState,
    placeholder,
)
from clustertop.util.aio import within

if TYPE_CHECKING:
    from asyncssh import SSHClientConnection

SnapshotSink = Callable[[HostSnapshot], None]
"""Receives every new snapshot; called on the event loop, must not block."""
ConnectionLookup = Callable[[str], "SSHClientConnection | None"]
"""A host's live SSH connection, looked up when an action runs (None: not connected now)."""

Runner = TypeVar("Runner")
"""What a RunnerFactory makes (in actions/: an ActionRunner)."""
_Made_co = TypeVar("_Made_co", covariant=True)


class RunnerFactory(Protocol[_Made_co]):
    """Makes the action runner of each kind of source, from what the source hands over.

    Implemented in actions/ (`actions.factory.ActionRunners`); each Source calls the method
    for its kind in `Source.action_runner`.
    """

    def local(self) -> _Made_co:
        """Acts on this machine."""
        ...

    def ssh(self, connection_for: ConnectionLookup) -> _Made_co:
        """Acts on SSH hosts over the source's own connections."""
        ...

    def demo(self, demo: Source) -> _Made_co:
        """Acts on the made-up cluster by changing what the demo emits (`demo` is the demo
        source; typed as any Source so that this module needs no import of it)."""
        ...


def is_settled(snap: HostSnapshot) -> bool:
    """True once a snapshot is final for `--once`: failed for good, or up with CPU deltas."""
    if snap.state is HostState.CONNECTING:
        return False
    if snap.state is HostState.UP:
        if snap.waiting or snap.cpu is None or snap.cpu.percent is None:
            return False
        # Per-process CPU needs a second reading too; a host with no process list is done.
        return not snap.processes or any(p.cpu_percent is not None for p in snap.processes)
    return True


class Source(abc.ABC):
    """Produces snapshots for a fixed, ordered list of hosts.

    Beyond snapshots, each source says itself what it offers, so no caller switches on its type:

    - `past_snapshots`: readings from before now, for the history charts. A source returns
      model snapshots and the analysis ingests them (`ClusterAnalysis.add_past`), so sources
      never import the analysis. Only the demo has a past (a made-up hour).
    - `action_runner`: the source calls the one method of a `RunnerFactory` that fits it,
      handing over what acting on its hosts needs (SSH: its live connection per host; the
      demo: itself; local: nothing). The factory and the runners live in actions/, which
      imports sources and never the other way round: sources only state the factory's shape.
    """

    @property
    @abc.abstractmethod
    def host_names(self) -> Sequence[str]:
        """Host names in the order the user gave them."""

    @abc.abstractmethod
    async def run(self, sink: SnapshotSink) -> None:
        """Emit snapshots to `sink` until cancelled; never raises for a host's failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections and remote processes."""

    def focus(self, host: str | None) -> None:  # noqa: B027 - optional hook
        """The host the user looks at closely (its host screen), or None: read it in full."""

    def view(self, hosts: Collection[str] | None) -> None:  # noqa: B027 - optional hook
        """The hosts whose rows are on screen (a source may read others less often); None:
        nothing says (every host is read alike)."""

    def past_snapshots(self, window_s: float, resolution_s: float) -> Iterator[HostSnapshot]:
        """Readings from before now, oldest first, covering up to `window_s` seconds at one per
        `resolution_s` at most; for the history only (default: none, the past is unknown)."""
        return iter(())

    def action_runner(self, factory: RunnerFactory[Runner]) -> Runner | None:
        """The runner that acts on these hosts, made by `factory` (default None: no actions)."""
        return None

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        """One settled snapshot per host, in host order, within `timeout` seconds."""
        names = list(self.host_names)
        latest: dict[str, HostSnapshot] = {}
        settled = asyncio.Event()

        def sink(snap: HostSnapshot) -> None:
            latest[snap.name] = snap
            if all(n in latest and is_settled(latest[n]) for n in names):
                settled.set()

        task = asyncio.create_task(self.run(sink))
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await within(settled.wait(), timeout)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            await self.aclose()
        now = time.time()
        return [_at_deadline(n, latest.get(n), now, timeout) for n in names]


def _at_deadline(name: str, snap: HostSnapshot | None, now: float, timeout: float) -> HostSnapshot:
    """What a host's reading is when the deadline comes: never `connecting`."""
    if snap is None:
        return placeholder(name, HostState.TIMEOUT, now, f"no answer within {timeout:g} s")
    if snap.state is not HostState.CONNECTING:
        return snap
    # Queued behind other hosts the whole time vs. an attempt cut short: say which.
    error = NOT_TRIED if snap.error == WAITING_FOR_SLOT else STILL_CONNECTING
    return placeholder(name, HostState.TIMEOUT, now, error)
