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
