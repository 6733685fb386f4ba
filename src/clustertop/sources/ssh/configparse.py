"""Parsing ssh configs for many hosts: on one thread of its own, each distinct line split once."""

from __future__ import annotations

import functools
import shlex
from concurrent.futures import ThreadPoolExecutor

import asyncssh
import asyncssh.config


@functools.lru_cache(maxsize=65536)
def _split_once(line: str) -> tuple[str, ...]:
    return tuple(shlex.split(line))


class _SplitOnce:
    """`shlex` as asyncssh's config parser uses it, splitting each distinct line only once.

    asyncssh parses the whole ssh config again for every host (its Host blocks are matched
    while reading), and shlex.split is most of that: with 1,000 hosts and a 500-line config,
    seconds of CPU before the first connect. The lines are the same for every host.
    """

    quote = staticmethod(shlex.quote)

    @staticmethod
    def split(line: str) -> list[str]:
        return list(_split_once(line))


if getattr(asyncssh.config, "shlex", None) is shlex:  # only the version this was written for
    setattr(asyncssh.config, "shlex", _SplitOnce)  # noqa: B010 - mypy: a module attribute


@functools.cache
def config_reader(lane: str = "hosts") -> ThreadPoolExecutor:
    """The thread that parses ssh configs for `lane` ("hosts", or "jumps": a jump host's options
    must not wait behind those of every host, all of which wait for it)."""
    # One thread a lane: parsing is CPU-bound, more threads only fight over the GIL (and the loop).
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"clustertop-ssh-config-{lane}")
