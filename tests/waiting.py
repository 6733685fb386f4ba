"""Bounded waiting for conditions in tests: no sleeping and hoping."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

SLACK = float(os.environ.get("CT_TEST_SLACK", "3"))
"""Each bound is stretched this much before giving up: a bound only costs time when the test
fails, and a machine shared with other users' work can be many times slower than an idle one."""


def wait_for(
    predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05, what: str = ""
) -> T:
    """Poll `predicate` until it returns a truthy value; fail with `what` after `timeout` s
    (times SLACK)."""
    deadline = time.monotonic() + timeout * SLACK
    last_error: Exception | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - remembered and reported on timeout
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(
                f"timed out after {timeout * SLACK:g} s waiting for {what}{detail}"
            )
        time.sleep(interval)


async def async_wait_for(
    predicate: Callable[[], T | Awaitable[T]],
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "",
) -> T:
    """Async variant of wait_for; `predicate` may be sync or async."""
    deadline = time.monotonic() + timeout * SLACK
    while True:
        value = predicate()
        if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout * SLACK:g} s waiting for {what}")
        await asyncio.sleep(interval)
