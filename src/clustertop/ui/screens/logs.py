"""The logs screen: a container's last lines, then its new ones as they come; Escape closes."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Log, Static
from textual.worker import Worker

from clustertop.actions.model import ContainerTarget, LogStream
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.util.textsafe import printable

MAX_LINES = 10_000
"""Lines kept in view; older ones scroll away (a chatty job must not fill the memory)."""
ENDED = "clustertop: the log stream ended"
"""Written under the last line when the stream ends by itself."""


class LogsScreen(Screen[None]):
    """Follows one container's log until closed; closing it ends the stream on the host too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="logs.close"),
    ]

    def __init__(self, target: ContainerTarget, stream: LogStream) -> None:
        super().__init__()
        self.target = target
        """The container whose log is shown."""
        self.stream = stream
        """Where the lines come from."""
        self.ended = asyncio.Event()
        """Set once the stream is over (ended by itself or closed)."""
        self._worker: Worker[None] | None = None
        self._following_stopped = False

    def compose(self) -> ComposeResult:
        """Header, which container, the log, footer."""
        yield Header()
        title = Text()
        title.append(printable(self.target.host), "bold")
        title.append("  container ", "dim").append(printable(self.target.name), "bold")
        title.append("  ID ", "dim").append(printable(self.target.id))
        yield Static(title, id="logs-title")
        yield Log(max_lines=MAX_LINES, auto_scroll=True, id="logs")
        yield KeysFooter()

    @property
    def log_widget(self) -> Log:
        """The widget holding the lines."""
        return self.query_one("#logs", Log)

    def on_mount(self) -> None:
        """Start following."""
        self.sub_title = f"logs of {printable(self.target.name)}"
        self.log_widget.focus()
        self._worker = self.run_worker(self._follow(), name="logs", exit_on_error=False)

    async def _follow(self) -> None:
        log = self.log_widget
        try:
            async for line in self.stream.lines():
                # Log shows text as is (no markup); printable() keeps escape bytes off the terminal.
                log.write_line(printable(line))
            if not self._following_stopped:
                log.write_line(ENDED)
        finally:
            await self._close_stream()

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
