"""Real headless Chromium driven over the Chrome DevTools Protocol (aiohttp's websocket client)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests.waiting import wait_for

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's chromium, or None (the browser tests skip)."""

# textual-serve draws the terminal with xterm.js on a canvas (WebGL or 2D), so the page has no
# text to read. Its page object sets `this.fitAddon = ...` on itself; this setter, installed
# before the page's scripts run, keeps a reference to that object, whose `terminal` is the
# xterm.js Terminal: its buffer holds exactly the characters on show.
TERMINAL_HOOK = """
Object.defineProperty(Object.prototype, "fitAddon", {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, "fitAddon", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (this.terminal) window.__clustertopTerminal = this;
  },
});
"""
TERMINAL_TEXT = """
(() => {
  const page = window.__clustertopTerminal;
  const term = page && page.terminal;
  if (!term) return "";
  const buffer = term.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
})()
"""


class Page:
    """One browser tab over its DevTools websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events in between are skipped)."""
        ident = next(self._ids)
        await self._socket.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self._socket.receive(), timeout=30)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"DevTools socket closed: {message.type}")
            reply = json.loads(message.data)
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def terminal_text(self) -> str:
        """The characters the page's terminal shows now, line by line."""
        return str(await self.evaluate(TERMINAL_TEXT) or "")

    async def wait_for_text(self, *texts: str, timeout: float = 30.0) -> str:
        """Wait until the terminal shows every one of `texts`; returns the terminal text."""
        deadline = time.monotonic() + timeout
        while True:
            shown = await self.terminal_text()
            if shown and all(text in shown for text in texts):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"page never showed {texts}; it shows:\n{shown}")
            await asyncio.sleep(0.2)

    async def focus_terminal(self) -> None:
        """Put the keyboard focus in the terminal, as a click does. Until then the app is told
        the page is blurred, and Textual shows no keys in the footer."""
        await self.evaluate("window.__clustertopTerminal.terminal.focus()")

    async def type(self, text: str) -> None:
        """Type into the terminal, as a user at the keyboard does (xterm.js turns keys into
        what it sends to the app)."""
        await self.focus_terminal()
        for char in text:
            await self.call("Input.dispatchKeyEvent", type="keyDown", text=char, key=char)
            await self.call("Input.dispatchKeyEvent", type="keyUp", key=char)

    async def screenshot(self, path: Path) -> Path:
        """Save what the browser renders as a PNG."""
        result = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(result["data"]))
        return path


@asynccontextmanager
async def chromium(profile: Path, size: tuple[int, int] = (1600, 1000)) -> AsyncIterator[str]:
    """Headless Chromium with a DevTools port; yields the DevTools HTTP address."""
    assert CHROMIUM is not None
    argv = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        f"--window-size={size[0]},{size[1]}",
        "about:blank",
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        wait_for(lambda: port_file.exists() and port_file.read_text().strip(), 30, what="DevTools")
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@asynccontextmanager
async def open_page(devtools: str) -> AsyncIterator[Page]:
    """The browser's first tab, with the terminal hook installed for every page it loads."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{devtools}/json/list") as response:
            targets = await response.json()
        url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        async with session.ws_connect(url, max_msg_size=0) as socket:
            page = Page(socket)
            await page.call("Page.enable")
            # A headless window never has the OS focus: without this, focusing the terminal
            # fires no focus event and the app believes the page is in the background.
            await page.call("Emulation.setFocusEmulationEnabled", enabled=True)
            await page.call("Page.addScriptToEvaluateOnNewDocument", source=TERMINAL_HOOK)
            yield page
