"""`clustertop serve` in real headless Chromium: the token's URL shows the cluster, nothing else."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.waiting import async_wait_for
from tests.web.browser import CHROMIUM, chromium, open_page
from tests.web.server import free_port, serve

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian)")

SCREENSHOT_DIR = os.environ.get("CLUSTERTOP_SCREENSHOT_DIR")
"""Set to a folder (e.g. screenshots/) to keep the browser's picture as web.png there."""


async def test_the_browser_shows_the_cluster_and_the_served_app_is_readonly(
    tmp_path: Path,
) -> None:
    with serve(["--demo"], tmp_path) as served:
        async with chromium(tmp_path / "profile") as devtools, open_page(devtools) as page:
            await page.call("Page.navigate", url=served.start_url)
            await page.wait_for_text("gpu01", "storage01", "Hosts 23 up")
            await page.focus_terminal()  # as a click does: the footer shows the keys
            shown = await page.wait_for_text("Help")
            assert "unreachable: co" in shown  # the grid's State column, as in the terminal
            assert "Stop stale" not in shown  # read-only: no action keys
            lines = await async_wait_for(served.app_command_lines, what="the served app")
            assert len(lines) == 1
            assert "--readonly" in lines[0] and "--demo" in lines[0]

            picture = await page.screenshot(tmp_path / "web.png")

            await page.type("f")  # keys reach the app
            await page.wait_for_text("Ready line", "ssh gpu15 CUDA_VISIBLE_DEVICES=0,1,2")
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert picture.stat().st_size > 10_000  # a rendered page, not a blank one
    if SCREENSHOT_DIR:
        shutil.copy(picture, Path(SCREENSHOT_DIR) / "web.png")


async def test_allow_actions_serves_without_readonly(tmp_path: Path) -> None:
    with serve(["--allow-actions", "--demo"], tmp_path) as served:
        async with chromium(tmp_path / "profile") as devtools, open_page(devtools) as page:
            await page.call("Page.navigate", url=served.start_url)
            await page.wait_for_text("gpu01", "storage01")
            await page.focus_terminal()
            shown = await page.wait_for_text("Help")
            apps = await async_wait_for(served.apps, what="the served app")
            assert "--readonly" not in apps[0].cmdline()
            # The audit log names the browser's end of the connection, as the server saw it.
            assert re.fullmatch(r"127\.0\.0\.1:\d+", apps[0].environ()["CLUSTERTOP_WEB_PEER"])
            assert "Stop stale" in shown  # the action keys the read-only session hides


BODY_TEXT = "document.body ? document.body.innerText : ''"

FOREIGN_PAGE = """<!DOCTYPE html><script>
window.verdict = "pending";
const socket = new WebSocket("ws://127.0.0.1:PORT/ws?width=80&height=24");
socket.onopen = () => { window.verdict = "opened"; };
socket.onclose = (event) => {
  if (window.verdict === "pending") window.verdict = "refused " + event.code;
};
</script>"""


async def test_without_the_token_the_browser_is_refused_and_nothing_starts(
    tmp_path: Path,
) -> None:
    with serve(["--demo"], tmp_path) as served:
        async with chromium(tmp_path / "profile") as devtools, open_page(devtools) as page:
            await page.call("Page.navigate", url=served.url)
            shown = await async_wait_for(lambda: page.evaluate(BODY_TEXT), what="the page")
            assert "refused: this address needs its token" in shown
            assert "?token=" in shown  # what to do instead
        assert served.apps() == []


@asynccontextmanager
async def foreign_site(port: int) -> AsyncIterator[str]:
    """Another local user's web page, on another loopback port, that tries to open a session;
    yields its origin."""
    page = FOREIGN_PAGE.replace("PORT", str(port))

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", site_port).start()
    try:
        yield f"http://127.0.0.1:{site_port}"
    finally:
        await runner.cleanup()


async def test_a_page_on_another_local_port_cannot_open_a_session(tmp_path: Path) -> None:
    with serve(["--allow-actions", "--demo"], tmp_path) as served:
        async with chromium(tmp_path / "profile") as devtools, open_page(devtools) as page:
            # The admin has the cookie: a URL with the token was opened in this browser.
            await page.call(
                "Page.navigate", url=f"{served.url}static/css/xterm.css?token={served.token}"
            )
            await async_wait_for(lambda: page.evaluate(BODY_TEXT), what="the stylesheet")
            async with foreign_site(served.port) as attacker:
                # Same site as the server (ports do not count), so even the Strict cookie goes.
                await page.call("Page.navigate", url=f"{attacker}/")
                verdict = await async_wait_for(
                    lambda: page.evaluate("window.verdict !== 'pending' && window.verdict"),
                    30,
                    what="the foreign page's WebSocket",
                )
        assert verdict.startswith("refused")
        assert served.apps() == []
        log = " ".join((tmp_path / "serve.log").read_text().split())  # unwrapped
        assert f"a page from '{attacker}' may not open a session here" in log


async def test_a_browser_beyond_the_session_cap_is_told_why(tmp_path: Path) -> None:
    with serve(["--max-sessions", "1", "--demo"], tmp_path) as served:
        origin = f"http://127.0.0.1:{served.port}"
        headers = {"Cookie": f"clustertop_token_{served.port}={served.token}"}
        async with (
            aiohttp.ClientSession(headers=headers) as session,
            session.ws_connect(f"ws://127.0.0.1:{served.port}/ws", origin=origin),
        ):
            await async_wait_for(lambda: len(served.apps()) == 1, 30, what="the first session")
            async with chromium(tmp_path / "profile") as devtools, open_page(devtools) as page:
                await page.call("Page.navigate", url=served.start_url)
                await page.wait_for_text("1 session is open already", "--max-sessions 1")
                await page.wait_for_text("Close one, then reload this page.")
            assert len(served.apps()) == 1
