"""Cold-start policy: while hosts still wait to connect, those already up are ticked less often."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable

from clustertop.sources.ssh.gates import Gate
from clustertop.util.aio import Flag

STRIDE = 3
"""During warm-up, a host with data gets every STRIDE-th tick after its last frame (and a host
screen's host every tick)."""
RELEASE = 32
"""Second frames held back by warm-up that may be in flight at once."""


class Warmup:
    """Which ticks the hosts already up get while others are still connecting.

    At cold start one event loop serves every key exchange and every frame. Each frame of a host
    already up costs about as much client CPU as a key exchange round, so at 1,000 hosts the
    frames of the first hosts up slow down the connects of the last (issue 13). Until every host
    has had data once or has failed once (then it retries with backoff, never holding this up
    again), and only while a handshake is running or waiting (`busy`: hosts still waiting for a
    TCP answer cost no CPU), a host already up gets only every `stride`-th tick after its last
    frame; the others are withheld and the probe simply sees fewer tick lines. Counted per host,
    not fleet-wide: a host up a moment ago is not refreshed at once just because the fleet's
    turn came. The second frame of a host (its CPU deltas) waits for such a tick too, unless
    `second_waits` is off (`--once` needs it at once).
    Fleets no larger than the handshake gate are never held.
    """

    def __init__(
        self,
        hosts: Iterable[str],
        *,
        stride: int = STRIDE,
        hold: bool = True,
        busy: Callable[[], bool] = lambda: True,
        second_waits: bool = True,
    ) -> None:
        self.stride = max(1, stride)
        """Every how many ticks the hosts already up get one while warming up."""
        self._pending = set(hosts) if hold and self.stride > 1 else set()
        self._busy = busy
        self._second_waits = second_waits
        self._over = asyncio.Event()
        self._release = asyncio.Semaphore(RELEASE)
        if not self._pending:
            self._over.set()

    @classmethod
    def for_fleet(
        cls, hosts: Iterable[str], handshakes: Gate, *, second_waits: bool = True
    ) -> Warmup:
        """The policy for a fleet: held back only when not every host gets a handshake slot."""
        names = list(hosts)
        hold = len(names) > handshakes.size
        return cls(names, hold=hold, busy=lambda: handshakes.busy, second_waits=second_waits)

    @property
    def active(self) -> bool:
        """True while some host has neither had data nor failed yet."""
        return bool(self._pending)

    @property
    def holding(self) -> bool:
        """True while the hosts already up are held back: warming up, handshakes under way."""
        return bool(self._pending) and self._busy()

    def settled(self, host: str) -> None:
        """The host had data or failed: it no longer holds the others back."""
        if self._pending:
            self._pending.discard(host)
            if not self._pending:
                self._over.set()

    def due(self, withheld: int) -> bool:
        """Whether a host that had `withheld` ticks withheld since its last frame gets this one."""
        return withheld + 1 >= self.stride or not self.holding

    @contextlib.asynccontextmanager
    async def second_frame(self, tick: asyncio.Event | Flag) -> AsyncIterator[None]:
        """Around a host's second frame: while warming up it waits for a tick the hosts up get
        (`tick` set) or for the end of warm-up, then for one of RELEASE slots, so the full scans
        held back never all arrive at once (each host's would be queued at the same time)."""
        if not (self._second_waits and self.holding):
            yield
            return
        if not tick.is_set():
            waits = [asyncio.ensure_future(tick.wait()), asyncio.ensure_future(self._over.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
        async with self._release:
            yield
