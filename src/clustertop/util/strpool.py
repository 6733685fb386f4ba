"""One copy of each equal string that many hosts' frames repeat (users, commands, addresses)."""

from __future__ import annotations

POOL_LIMIT = 65536
"""Strings the current generation holds before it becomes the previous one."""


class StringPool:
    """Returns the pool's copy of an equal string, so hosts that send the same text share it.

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
        self._current: dict[str, str] = {}
        self._previous: dict[str, str] = {}

    def __call__(self, text: str) -> str:
        """The pooled string equal to `text` (`text` itself the first time)."""
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


share = StringPool()
"""The process-wide pool. Threads may share it: a race at worst keeps two equal copies."""
