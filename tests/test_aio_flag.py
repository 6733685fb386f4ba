"""util.aio.Flag: the per-host tick signal behaves as asyncio.Event does where sessions use it."""

from __future__ import annotations

import asyncio

from clustertop.util.aio import Flag


async def test_a_wait_returns_once_set_even_if_cleared_before_it_runs() -> None:
    flag = Flag()
    waits = [asyncio.create_task(flag.wait()) for _ in range(2)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in waits)
    flag.set()
    flag.clear()  # as a session does when its frame starts
    assert await asyncio.wait_for(asyncio.gather(*waits), 10) == [True, True]
    assert not flag.is_set()


async def test_a_set_flag_is_waited_at_once_and_a_cancelled_wait_is_forgotten() -> None:
    flag = Flag()
    flag.set()
    assert flag.is_set() and await flag.wait()
    flag.clear()
    gone = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.gather(gone, return_exceptions=True)
    assert gone.cancelled()
    later = asyncio.create_task(flag.wait())
    await asyncio.sleep(0)
    flag.set()
    assert await asyncio.wait_for(later, 10)
