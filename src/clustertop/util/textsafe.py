"""Untrusted text from hosts made safe to show: no markup, no control sequences."""

from __future__ import annotations

import re

from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object) -> str:
    """One line of plain text: control characters become visible escapes (ESC -> \\x1b)."""
    text = "" if value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    return _CONTROL.sub(_escape, text)


def literal(value: object, style: str = "") -> Text:
    """A Rich Text that shows `value` exactly as text: never parsed as markup."""
    return Text(printable(value), style=style, no_wrap=True, overflow="ellipsis")
