"""Frames turned into snapshots one per event-loop turn, so connection traffic is never starved."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import TypeVar, cast

T = TypeVar("T")


class ApplyQueue:
    """Runs CPU-bound jobs (parsing a frame, building its snapshot) one per event-loop turn.

    All hosts are ticked at once, so their frames arrive together: applied where they were read,
    a burst of N frames runs back to back before the loop looks at its sockets again. At 1,000
    hosts that is about a second on which every key exchange in progress waits for each of its
    round trips, until handshakes time out and cold start collapses (issue 13). Here the loop
    serves the sockets between any two frames. Each host has at most one frame queued (it sends
    its next tick only once its frame is applied), so the queue holds at most one job per host.
    """

    def __init__(self) -> None:
        self._jobs: collections.deque[tuple[Callable[[], object], asyncio.Future[object]]] = (
            collections.deque()
        )
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._jobs)

    async def apply(self, job: Callable[[], T]) -> T:
        """`job()` run by the queue's worker; its exception is raised here."""
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._jobs.append((job, future))
        self._wake.set()
        return cast(T, await future)

    async def run(self) -> None:
        """The worker, until cancelled."""
        while True:
            if not self._jobs:
                self._wake.clear()
                await self._wake.wait()
                continue
            job, future = self._jobs.popleft()
            if not future.done():  # its host may have been cancelled meanwhile
                try:
                    future.set_result(job())
                except Exception as exc:  # noqa: BLE001 - raised in the waiting session
                    future.set_exception(exc)
            await asyncio.sleep(0)  # let the loop poll its sockets before the next job
