"""`clustertop serve` end to end: real headless Chromium shows the demo cluster, read-only."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.waiting import async_wait_for
from tests.web.browser import CHROMIUM, chromium, open_page
from tests.web.server import serve

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
