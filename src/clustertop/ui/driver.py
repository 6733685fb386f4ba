"""Textual's Linux driver with an input thread that sleeps until there is input."""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING, Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App


class _WakingEvent(threading.Event):
    """The driver's exit event: setting it also wakes the input thread's select()."""

    def __init__(self) -> None:
        super().__init__()
        self.wake_read = self.wake_write = -1
        self.open()

    def open(self) -> None:
        """Make the pipe, unless it is open: Textual closes the driver on suspend (`o`, a shell)
        and starts a new input thread on resume, which needs one again."""
        if self.wake_read >= 0:
            return
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_write, False)
        os.set_blocking(wake_read, False)
        self.wake_read, self.wake_write = wake_read, wake_write

    def set(self) -> None:
        """Set the flag, then wake the input thread (a full pipe is awake enough)."""
        super().set()
        if self.wake_write < 0:
            return  # closed: its number may be another file's by now
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self.wake_write, b"x")

    def drain(self) -> None:
        """Forget earlier wake-ups (those of a previous input thread)."""
        if self.wake_read < 0:
            return
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.wake_read, 4096):
                pass

    def close(self) -> None:
        """Close the pipe."""
        fds, self.wake_read, self.wake_write = (self.wake_read, self.wake_write), -1, -1
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver (Textual 8.2) whose input thread waits for input, the end of a lone Escape's
    delay, or the exit event, instead of waking every 0.1 s to check for them: those ten
    wake-ups a second were ~10 % of an idle clustertop's CPU (benchmarks/IDLE.md).

    run_input_thread is Textual's, but for the select timeout and the wake-up pipe;
    tests/ui/test_driver.py types keys through a real terminal into it.
    """

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        self.exit_event = self._waking = _WakingEvent()

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events."""
        waking = self._waking
        waking.open()
        waking.drain()
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(waking.wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for key, mask in events:
                if key.fd != self.fileno or not mask & selectors.EVENT_READ:
                    continue
                unicode_data = decode(os.read(self.fileno, 1024 * 4), final=final)
                if not unicode_data:
                    break  # stdin piped and at its end
                for event in parser.feed(unicode_data):
                    self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(_timeout(parser)))
            selector.unregister(self.fileno)
            process(selector.select(0.1), final=True)
        finally:
            selector.close()
            with contextlib.suppress(EOFError, ParseError):
                for _event in parser.feed(""):
                    pass

    def close(self) -> None:
        """Textual's cleanup, then the wake-up pipe."""
        super().close()
        self._waking.close()


def _timeout(parser: XTermParser) -> float | None:
    """Until the parser gives up waiting after a lone Escape; None (no timeout) otherwise."""
    due = parser._timeout_time  # Textual's parser keeps its deadline here
    return None if due is None else max(due - get_time(), 0.0)
