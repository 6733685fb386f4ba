"""Runs each local section off the event loop, one call at a time, keeping its latest result."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from clustertop.model import Section

T = TypeVar("T")

log = logging.getLogger(__name__)


def _settle(future: asyncio.Future[T], value: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)  # type: ignore[arg-type]  # value is a T when error is None


def in_daemon_thread(collect: Callable[[], T], name: str) -> asyncio.Future[T]:
    """Run `collect` in a new daemon thread; the future resolves on the running loop.

    Not asyncio.to_thread: a call stuck in the kernel (NVML on a GPU that fell off the bus)
    would hold a default-executor worker forever, and asyncio.run joins those at exit, so the
    program could never quit. A daemon thread is simply abandoned.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def work() -> None:
        value: T | None = None
        error: BaseException | None = None
        try:
            value = collect()
        except Exception as exc:  # noqa: BLE001 - handed to the awaiting side, not swallowed
            error = exc
        # RuntimeError: the loop closed while we worked, and nobody is waiting any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, value, error)

    # Mark a late failure as seen: the source may have been cancelled before harvesting it.
    future.add_done_callback(lambda done: done.cancelled() or done.exception())
    threading.Thread(target=work, name=f"clustertop {name}", daemon=True).start()
    return future


class SectionRunner(Generic[T]):
    """One section's collector: never two calls at once, the latest result and its time kept."""

    def __init__(self, section: Section, collect: Callable[[], T]) -> None:
        self.section = section
        """Which part of the snapshot this fills."""
        self._collect = collect
        self._future: asyncio.Future[T] | None = None
        self._started = 0.0
        self.latest: T | None = None
        """The newest result, None until one arrived."""
        self.latest_time: float | None = None
        """Unix time the call that produced `latest` started."""
        self.failure: str | None = None
        """Why the last call failed unexpectedly (a bug, not a missing driver)."""

    def start(self) -> asyncio.Future[T]:
        """Start a call unless the previous one is still running; the call in flight."""
        if self._future is None:
            self._started = time.time()
            self._future = in_daemon_thread(self._collect, self.section.value)
        return self._future

    def harvest(self) -> None:
        """Take the result of a finished call."""
        future = self._future
        if future is None or not future.done():
            return
        self._future = None
        error = future.exception()
        if error is not None:
            log.error("local %s collection failed", self.section, exc_info=error)
            self.failure = f"internal error: {type(error).__name__}: {error}"
            return
        self.latest, self.latest_time, self.failure = future.result(), self._started, None

    @property
    def busy_since(self) -> float | None:
        """Unix time the call still in flight started, None when idle."""
        return self._started if self._future is not None else None
