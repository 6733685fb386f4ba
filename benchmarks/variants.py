"""Proposed clustertop changes, tried inside the benchmark's driver process only (never in src/).

Each variant patches one seam of the installed clustertop in the driver process, so its effect
can be measured against the unchanged code on the same fleet (`python -m benchmarks.experiments`).
The main run (`benchmarks.run`) never applies them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import asyncssh

from clustertop.sources.ssh import assemble

_known_hosts_cache: dict[tuple[tuple[str, float], ...], Any] = {}


def known_hosts_once() -> None:
    """Parse each known_hosts file once (per mtime), not once per connection."""
    original = asyncssh.connect

    async def connect(host: str, *args: Any, **kwargs: Any) -> Any:
        files = kwargs.get("known_hosts")
        if isinstance(files, list) and files and all(isinstance(f, str) for f in files):
            key = tuple((f, os.stat(f).st_mtime) for f in files)
            if key not in _known_hosts_cache:
                _known_hosts_cache[key] = asyncssh.read_known_hosts(files)
            kwargs["known_hosts"] = _known_hosts_cache[key]
        return await original(host, *args, **kwargs)

    asyncssh.connect = connect  # type: ignore[assignment]


def docker_parsed_once() -> None:
    """Reuse the docker section's parse while its text is unchanged (containers rarely change).

    An upper bound: a real change would still refresh the "Up 3 hours" ages from the cached
    start times, which costs little.
    """
    original = assemble.read_docker  # type: ignore[attr-defined]
    cache: dict[tuple[str, str, int | None], Any] = {}

    def read_docker(parts: Any, returncode: int | None, **kwargs: Any) -> Any:
        key = (parts.get("", ""), parts.get("logs", ""), returncode)
        if key not in cache:
            if len(cache) > 4096:
                cache.clear()
            cache[key] = original(parts, returncode, **kwargs)
        return cache[key]

    assemble.read_docker = read_docker  # type: ignore[attr-defined]


VARIANTS: dict[str, Callable[[], None]] = {
    "known-hosts-once": known_hosts_once,
    "docker-parsed-once": docker_parsed_once,
}
"""Variant name -> the patch that applies it."""


def apply(names: list[str]) -> None:
    """Apply the named variants (unknown names raise KeyError)."""
    for name in names:
        VARIANTS[name]()
