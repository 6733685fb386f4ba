"""Command palette entries: 'Go to host …' for every host, shown as plain text (never markup)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from clustertop.util.textsafe import printable

_PREFIX = "Go to host "
_DISCOVER_LIMIT = 8


@runtime_checkable
class HostNavigator(Protocol):
    """What the palette needs from the app."""

    def host_names(self) -> Sequence[str]:
        """Every host, in source order."""

    def go_to_host(self, name: str) -> None:
        """Open the host screen of `name`."""


class HostCommands(Provider):
    """One 'Go to host NAME' command per host."""

    def _navigator(self) -> HostNavigator | None:
        app = self.app
        return app if isinstance(app, HostNavigator) else None

    async def search(self, query: str) -> Hits:
        """Hosts whose command title fuzzily matches `query`."""
        navigator = self._navigator()
        if navigator is None:
            return
        matcher = self.matcher(query)
        for name in navigator.host_names():
            title = _PREFIX + printable(name)
            score, offsets = matcher.fuzzy_search.match(query, title)
            if score > 0:
                display = Content(title)
                for offset in offsets:
                    display = display.stylize(matcher.match_style, offset, offset + 1)
                yield Hit(
                    score,
                    display,
                    partial(navigator.go_to_host, name),
                    text=title,
                    help="Open this host's detail screen",
                )

    async def discover(self) -> Hits:
        """The first hosts, so the palette shows what it can do before typing."""
        navigator = self._navigator()
        if navigator is None:
            return
        for name in navigator.host_names()[:_DISCOVER_LIMIT]:
            title = _PREFIX + printable(name)
            yield DiscoveryHit(Content(title), partial(navigator.go_to_host, name), text=title)
