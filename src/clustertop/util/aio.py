"""Small asyncio helpers that behave the same on Python 3.10 and 3.11+."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """Await with a deadline; raises asyncio.TimeoutError.

    On 3.11+ this uses asyncio.timeout, which never swallows a cancellation that arrives while
    the inner call completes (3.11's wait_for can, leaving a cancelled task running forever).
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


class Flag:
    """asyncio.Event's set, clear, is_set and wait, in ~100 bytes: an Event carries a deque and
    an instance dict (~1.1 kB), and the SSH source keeps one per host."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None
        """Futures of the waits in progress (None: none since the last set)."""

    def is_set(self) -> bool:
        """True once set, until cleared."""
        return self._set

    def set(self) -> None:
        """Set it and wake every wait in progress (as an Event: even if cleared before they run)."""
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        """Unset it."""
        self._set = False

    async def wait(self) -> bool:
        """Return True once it is set (at once if it is)."""
        if self._set:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
