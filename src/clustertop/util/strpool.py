"""One copy of each equal string or number that many hosts' frames repeat (users, commands)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)

POOL_LIMIT = 65536
"""Values the current generation holds before it becomes the previous one."""


class Pool(Generic[T]):
    """Returns the pool's copy of an equal value, so hosts that send the same text share it.

    A fleet's hosts run the same daemons under the same users: at 1,000 hosts the command
    lines, user, process and cgroup names of their process and port tables were most of the
    SSH client's memory, each parsed into its own string every full scan (issue 13).
    Not `sys.intern`: on some Python versions interned strings live forever, and these come
    from hosts (a command line may carry a timestamp). The pool is two generations of at most
    `limit` strings each: a string not asked for during a whole generation is dropped from
    the pool (the snapshots that hold it keep it alive as long as they need it), so the pool
    stays bounded whatever the hosts send.
    """

    __slots__ = ("_current", "_limit", "_previous")

    def __init__(self, limit: int = POOL_LIMIT) -> None:
        self._limit = max(1, limit)
        self._current: dict[T, T] = {}
        self._previous: dict[T, T] = {}

    def __call__(self, text: T) -> T:
        """The pooled value equal to `text` (`text` itself the first time)."""
        found = self._current.get(text)
        if found is not None:
            return found
        found = self._previous.pop(text, text)
        if len(self._current) >= self._limit:
            self._previous, self._current = self._current, {}
        self._current[found] = found
        return found

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)


StringPool = Pool[str]
"""A pool of strings."""

share: Pool[str] = Pool()
"""The process-wide string pool. Threads may share it: a race at worst keeps two equal copies."""

share_number: Pool[int] = Pool()
"""The same for numbers above 256 that hosts repeat (port numbers, the PIDs holding sockets):
each is a 28-byte object, and a host with a thousand listening sockets has thousands."""
