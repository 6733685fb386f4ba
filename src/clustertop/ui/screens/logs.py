"""The logs screen: a container's last lines, then its new ones as they come; Escape closes."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Log, Static
from textual.worker import Worker

from clustertop.actions.model import ContainerTarget, LogStream, Notice
from clustertop.actions.streams import MAX_LINE, cut_line
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.util.textsafe import printable

MAX_LINES = 5_000
"""Lines kept in view; older ones scroll away (a chatty job must not fill the memory)."""
VIEW_LINE = 2 * MAX_LINE
"""Characters of one line shown, once made printable (escapes make a line longer)."""
MAX_BYTES = 8 * 1024 * 1024
"""UTF-8 bytes of lines kept in view, whatever their count."""
FLUSH_GAP = 0.1
"""Seconds between writes to the widget: under a flood, lines that would scroll away before the
next write are never rendered (the pending lines are capped like the view)."""
NOTICES_SHOWN = 3
"""clustertop's own notices shown under the log (the latest)."""
ENDED = "the log stream ended"
"""The notice shown when the stream ends by itself."""


class KeptLines:
    """Lines under a line and a byte cap: the oldest go first (their text kept or not)."""

    def __init__(self, max_lines: int, max_bytes: int, *, keep_text: bool = False) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.sizes: deque[int] = deque()
        """UTF-8 size of each line, oldest first."""
        self.texts: deque[str] | None = deque() if keep_text else None
        """The lines themselves (keep_text), oldest first."""
        self.bytes = 0
        """Their total size."""

    def add(self, lines: list[str]) -> int:
        """Count `lines` in, drop the oldest beyond the caps; how many lines stay in all."""
        for line in lines:
            size = len(line.encode("utf-8", "replace"))
            self.sizes.append(size)
            self.bytes += size
            if self.texts is not None:
                self.texts.append(line)
        while self.sizes and (len(self.sizes) > self.max_lines or self.bytes > self.max_bytes):
            self.bytes -= self.sizes.popleft()
            if self.texts is not None:
                self.texts.popleft()
        return len(self.sizes)

    def take(self) -> list[str]:
        """The lines held (keep_text), and hold none from now on."""
        taken = list(self.texts or ())
        self.sizes.clear()
        self.bytes = 0
        if self.texts is not None:
            self.texts.clear()
        return taken


class LogsScreen(Screen[None]):
    """Follows one container's log until closed; closing it ends the stream on the host too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="logs.close"),
    ]

    def __init__(
        self,
        target: ContainerTarget,
        stream: LogStream,
        *,
        max_lines: int = MAX_LINES,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        super().__init__()
        self.target = target
        """The container whose log is shown."""
        self.stream = stream
        """Where the lines come from."""
        self.ended = asyncio.Event()
        """Set once the stream is over (ended by itself or closed)."""
        self.kept = KeptLines(max_lines, max_bytes)
        """What the log widget holds, by size (the caps are enforced here)."""
        self.notices: list[str] = []
        """clustertop's own notices so far (printable), shown apart from the log."""
        self._pending = KeptLines(max_lines, max_bytes, keep_text=True)
        self._worker: Worker[None] | None = None
        self._following_stopped = False

    def compose(self) -> ComposeResult:
        """Header, which container, the log, clustertop's notices, footer."""
        yield Header()
        title = Text()
        title.append(printable(self.target.host), "bold")
        noun = "  container " if self.target.engine == "docker" else "  podman container "
        title.append(noun, "dim").append(printable(self.target.name), "bold")
        title.append("  ID ", "dim").append(printable(self.target.id))
        yield Static(title, id="logs-title")
        yield Log(max_lines=self.kept.max_lines, auto_scroll=True, id="logs")
        # Out of band: notices live in their own widget, never among the container's lines.
        notices = Static("", id="logs-notices")
        notices.display = False
        yield notices
        yield KeysFooter()

    @property
    def log_widget(self) -> Log:
        """The widget holding the lines."""
        return self.query_one("#logs", Log)

    def on_mount(self) -> None:
        """Start following."""
        self.sub_title = f"logs of {printable(self.target.name)}"
        self.log_widget.focus()
        self.set_interval(FLUSH_GAP, self._flush)
        self._worker = self.run_worker(self._follow(), name="logs", exit_on_error=False)

    async def _follow(self) -> None:
        try:
            async for item in self.stream.lines():
                if isinstance(item, Notice):
                    self._flush()
                    self._notice(item.text)
                    continue
                # Log shows text as is (no markup); printable() keeps escape bytes off the
                # terminal, cut_line() a 64 KiB line (from any stream) out of the widget.
                self._pending.add([cut_line(printable(item), VIEW_LINE)])
            self._flush()
            if not self._following_stopped:
                self._notice(ENDED)
        finally:
            await self._close_stream()

    def _flush(self) -> None:
        """Write the lines waiting, keeping the widget within its line and byte caps."""
        if not self._pending.sizes or not self.is_mounted:
            return
        lines = self._pending.take()
        log = self.log_widget
        # Log drops its oldest lines beyond max_lines: set it to what the byte cap allows too.
        log.max_lines = self.kept.add(lines)
        log.write_lines(lines[-log.max_lines :] if log.max_lines else [])

    def _notice(self, text: str) -> None:
        self.notices.append(printable(text))
        del self.notices[:-NOTICES_SHOWN]
        shown = Text()
        for notice in self.notices:
            shown.append("clustertop: ", "bold reverse").append(f" {notice}\n", "italic")
        widget = self.query_one("#logs-notices", Static)
        widget.update(shown)
        widget.display = True

    async def _close_stream(self) -> None:
        if not self.ended.is_set():
            self.ended.set()
            await self.stream.aclose()

    async def action_close(self) -> None:
        """Stop following (on the host too) and go back."""
        await self.close_stream()
        self.dismiss()

    async def close_stream(self) -> None:
        """End the stream and the worker reading it."""
        self._following_stopped = True
        # Closing first lets the reader see the end of its stream instead of being cut off.
        await self._close_stream()
        if self._worker is not None:
            self._worker.cancel()

    async def on_unmount(self) -> None:
        """Quitting the app with the log open still ends the stream."""
        await self.close_stream()
