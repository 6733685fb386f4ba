"""`clustertop serve` lets in only its own page with its token, and at most --max-sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.waiting import async_wait_for
from tests.web.server import Served, serve


def _origin(served: Served) -> str:
    return f"http://127.0.0.1:{served.port}"


def _ws(served: Served) -> str:
    return f"ws://127.0.0.1:{served.port}/ws?width=100&height=30"


async def _refused_websocket(served: Served, **options: object) -> int:
    """The HTTP status the WebSocket handshake was refused with."""
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            async with session.ws_connect(_ws(served), **options):  # type: ignore[arg-type]
                pass
    return refused.value.status


@asynccontextmanager
async def _session(served: Served) -> AsyncIterator[aiohttp.ClientWebSocketResponse[bool]]:
    """A WebSocket as the server's own page opens it: its Origin, the token's cookie."""
    headers = {"Cookie": f"clustertop_token_{served.port}={served.token}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.ws_connect(_ws(served), origin=_origin(served)) as socket,
    ):
        yield socket


async def test_the_page_needs_the_token_and_the_first_visit_sets_a_strict_cookie(
    tmp_path: Path,
) -> None:
    with serve(["--demo"], tmp_path) as served:
        assert served.start_url == f"{served.url}?token={served.token}"
        assert len(served.token) >= 40
        # unsafe: aiohttp's jar keeps no cookies from IP addresses otherwise; browsers do.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            for path in ("", "static/js/textual.js", "download/x"):
                async with session.get(served.url + path) as response:
                    assert response.status == 401, path
                    assert "needs its token" in await response.text()
            async with session.get(f"{served.url}?token=not-it") as response:
                assert response.status == 403
                assert "wrong or outdated token" in await response.text()
            async with session.get(served.start_url) as response:
                assert response.status == 200
                cookie = response.headers["Set-Cookie"]
                assert response.headers["Referrer-Policy"] == "no-referrer"
            for attribute in (f"clustertop_token_{served.port}={served.token}", "HttpOnly"):
                assert attribute in cookie
            assert "SameSite=Strict" in cookie
            async with session.get(served.url + "static/js/textual.js") as response:
                assert response.status == 200  # the cookie alone, from now on
        assert served.apps() == []


async def test_a_websocket_without_the_token_or_from_a_foreign_origin_is_refused(
    tmp_path: Path,
) -> None:
    with serve(["--allow-actions", "--demo"], tmp_path) as served:
        # The attack in issue 10: another local user's page, or a script, driving a session.
        assert await _refused_websocket(served, origin="http://evil.example") == 403
        assert await _refused_websocket(served, origin=_origin(served)) == 401
        with_token = {"headers": {"Cookie": f"clustertop_token_{served.port}={served.token}"}}
        for origin in ("http://evil.example", "http://127.0.0.1:1", "null", "https://127.0.0.1"):
            assert await _refused_websocket(served, origin=origin, **with_token) == 403, origin
        assert await _refused_websocket(served, **with_token) == 403  # no Origin at all
        # DNS rebinding: a foreign name resolving to 127.0.0.1, its page same-origin to it.
        rebound = {
            "Host": f"evil.example:{served.port}",
            "Origin": f"http://evil.example:{served.port}",
        }
        url = f"{served.url}?token={served.token}"
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, headers={"Host": rebound["Host"]}) as response,
        ):
            assert response.status == 403
            assert "is not an address of this server" in await response.text()
        headers = {**rebound, "Cookie": with_token["headers"]["Cookie"]}
        assert await _refused_websocket(served, headers=headers) == 403
        assert served.apps() == []  # none of them started a clustertop
        log = " ".join((tmp_path / "serve.log").read_text().split())  # unwrapped
        assert "refused GET /ws" in log and "evil.example" in log


async def test_a_third_session_is_refused_at_the_default_cap_of_two(tmp_path: Path) -> None:
    with serve(["--demo"], tmp_path) as served:
        async with _session(served) as first, _session(served):
            await async_wait_for(lambda: len(served.apps()) == 2, 30, what="two sessions")
            async with _session(served) as third:
                message = await third.receive(timeout=30)
                assert message.type == aiohttp.WSMsgType.BINARY
                text = message.data.decode()
                assert "2 sessions are open already" in text
                assert "--max-sessions 2" in text and "Close one, then reload" in text
                assert len(served.apps()) == 2  # the refused one started nothing
            # A reload: the new socket comes while the old session is still ending.
            await first.close()
            async with _session(served) as reloaded:
                message = await reloaded.receive(timeout=30)
                assert b"open already" not in message.data
                await async_wait_for(lambda: len(served.apps()) == 2, 30, what="the new one")
        # Closed sessions free their places.
        await async_wait_for(lambda: served.apps() == [], 30, what="the sessions to end")


async def test_without_auth_the_page_is_open_but_origin_is_still_checked(tmp_path: Path) -> None:
    with serve(["--no-auth", "--demo"], tmp_path) as served:
        assert served.start_url == served.url
        async with aiohttp.ClientSession() as session, session.get(served.url) as response:
            assert response.status == 200
        assert await _refused_websocket(served, origin="http://evil.example") == 403
