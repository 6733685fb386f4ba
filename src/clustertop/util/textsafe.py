"""Untrusted text from hosts made safe to show: no markup, no control or format characters."""

from __future__ import annotations

import contextlib
import io
import re
import sys
import unicodedata

from rich.text import Text

ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories never shown as themselves: controls (ESC, C1 CSI), format characters
(bidi overrides such as U+202E, zero-width ones), lone surrogates (undecodable bytes kept by
surrogateescape), line and paragraph separators."""
_LINE_BREAKS = re.compile(r"[\r\n\t]")


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(value: object) -> str:
    """One line of plain text: every character of ESCAPED_CATEGORIES becomes a visible escape
    (ESC -> \\x1b, U+202E -> \\u202e); tabs and line breaks become spaces."""
    text = "" if value is None else str(value)
    text = _LINE_BREAKS.sub(" ", text)
    if text.isprintable():  # the common case, at C speed: none of those categories is
        return text
    category = unicodedata.category
    return "".join(_escape(c) if category(c) in ESCAPED_CATEGORIES else c for c in text)


def literal(value: object, style: str = "") -> Text:
    """A Rich Text that shows `value` exactly as text: never parsed as markup."""
    return Text(printable(value), style=style, no_wrap=True, overflow="ellipsis")


def safe_stdout() -> None:
    """Make stdout escape what its encoding cannot write (never UnicodeEncodeError).

    A strict or non-UTF-8 stdout (PYTHONIOENCODING=ascii, LANG=C on an old Python) would
    otherwise end `--once` half-way on the first character it cannot encode.
    """
    stream = sys.stdout
    if isinstance(stream, io.TextIOWrapper):
        with contextlib.suppress(ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")
