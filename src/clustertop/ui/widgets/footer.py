"""A Footer that rebuilds its key widgets only when the keys it shows actually change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeysFooter(Footer):
    """Textual's Footer recomposes (a dozen widgets, ~15 ms) on every focus or binding refresh;
    this one skips the rebuild when the shown keys, descriptions and enabled states are the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple[bool, tuple[tuple[str, str, str, bool], ...]] | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Recompose only for a different set of keys."""
        keys = tuple(
            (key, active.binding.action, active.binding.description, active.enabled)
            for key, active in screen.active_bindings.items()
            if active.binding.show
        )
        # Footer draws no keys while the app is blurred (a web page in the background): the
        # same keys must be drawn again once it has focus.
        shown = (screen.app.app_focus, keys)
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)
