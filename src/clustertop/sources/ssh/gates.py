"""Connection admission: how many TCP connects and SSH handshakes run at once, who goes first."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import random
import resource
from collections.abc import AsyncIterator
from dataclasses import dataclass

FIRST_TRY = 0
"""Rank of a host that has never been tried: served before every retry."""
RETRY = 1
"""Rank of a host that failed before."""

DEFAULT_MAX_CONNECTS = 1024
"""TCP connects (and banner waits) in flight at once; a silent host costs only a socket here."""

_RESERVED_FDS = 64


class Gate:
    """A semaphore that serves its waiters by rank (lower first), then in arrival order."""

    def __init__(self, size: int) -> None:
        self.size = size
        """Slots in all."""
        self._free = size
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        """Callers waiting for a slot."""
        return len(self._waiters)

    @property
    def busy(self) -> bool:
        """True while a slot is held or waited for."""
        return self._free < self.size or bool(self._waiters)

    @contextlib.asynccontextmanager
    async def slot(self, rank: int = FIRST_TRY) -> AsyncIterator[None]:
        """Hold one slot for the block."""
        await self._acquire(rank)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, rank: int) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        entry = (rank, next(self._order), asyncio.get_running_loop().create_future())
        heapq.heappush(self._waiters, entry)
        try:
            await entry[2]
        except asyncio.CancelledError:
            if entry[2].done() and not entry[2].cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            elif entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
            raise

    def _release(self) -> None:
        while self._waiters:
            _, _, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)
                return
        self._free += 1


@dataclass(frozen=True, slots=True)
class ConnectGates:
    """The two admission limits every connection attempt (hosts and jump hosts) goes through."""

    connects: Gate
    """TCP connect up to the server's banner: cheap, waits on the network, so many at once."""
    handshakes: Gate
    """Key exchange and authentication: CPU-bound on both ends (and sshd's MaxStartups)."""

    @classmethod
    def create(cls, max_handshakes: int, max_connects: int | None = None) -> ConnectGates:
        """Gates sized by the settings and by what the open-file limit allows."""
        connects = max_connects if max_connects is not None else default_max_connects()
        return cls(Gate(max(connects, max_handshakes)), Gate(max_handshakes))


def default_max_connects() -> int:
    """DEFAULT_MAX_CONNECTS, or fewer when the open-file limit is low.

    Half the limit at most: the other half stays for the hosts already up and their channels.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return DEFAULT_MAX_CONNECTS
    return max(16, min(DEFAULT_MAX_CONNECTS, (soft - _RESERVED_FDS) // 2))


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: between half and all of min(cap, base * 2**attempt)."""
    ceiling = min(cap, base * float(2 ** min(attempt, 16)))
    return ceiling * (0.5 + 0.5 * float(rng.random()))
