"""Copy text to the user's clipboard with OSC 52: works over SSH and in most terminals."""

from __future__ import annotations

from typing import Any

from textual.app import App

from clustertop.util.textsafe import printable


def copy_text(app: App[Any], text: str, what: str) -> None:
    """Put `text` on the clipboard (Textual writes OSC 52 to the terminal) and say so.

    The terminal, not this program, decides: some ignore OSC 52 (macOS Terminal) and tmux
    passes it on only with `set-clipboard on`; the notification shows the text either way.
    """
    app.copy_to_clipboard(text)
    app.notify(printable(text), title=f"Copied {what}", markup=False)
