"""textual-serve's server with clustertop's guard, a cap on sessions, and the peer in the audit."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import stat
import struct
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server

from clustertop.cli.web_guard import (
    TOKEN_PARAM,
    Guard,
    add_safety_headers,
    guard_middleware,
    parse_authority,
)

log = logging.getLogger("clustertop.serve")

_UNIX_PATH_MAX = 108
"""sun_path's size on Linux, the terminating NUL included."""
SLOT_WAIT = 5.0
"""Seconds a session beyond the cap waits for one to end before it is refused."""
WEB_PEER_ENV = "CLUSTERTOP_WEB_PEER"
"""Set in a served clustertop's environment: who it serves, for the audit log."""


class PeerAppService(AppService):
    """One session's clustertop, told in its environment which web peer it serves."""

    def __init__(self, command: str, *, peer: str, **kwargs: Any) -> None:
        super().__init__(command, **kwargs)
        self.peer = peer
        """The browser's address (host:port), or the unix socket peer's uid."""

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        environment = super()._build_environment(width=width, height=height)
        environment[WEB_PEER_ENV] = self.peer
        return environment


def web_peer(request: web.Request) -> str:
    """Who is on the other end: 'host:port' for TCP, 'unix uid=N pid=N' for a unix socket."""
    transport = request.transport
    if transport is None:
        return "unknown"
    peername = transport.get_extra_info("peername")
    if isinstance(peername, tuple) and len(peername) >= 2:
        host, port = str(peername[0]), int(peername[1])
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == socket.AF_UNIX:
        credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid, uid, _gid = struct.unpack("3i", credentials)
        return f"unix uid={uid} pid={pid}"
    return "unknown"


def session_cap_message(max_sessions: int) -> str:
    """What a browser beyond the cap sees in its terminal."""
    sessions = "1 session is" if max_sessions == 1 else f"{max_sessions} sessions are"
    return (
        f"\r\n  clustertop serve: {sessions} open already, the most this server runs at once "
        f"(--max-sessions {max_sessions}).\r\n  Close one, then reload this page.\r\n"
    )


class GuardedServer(Server):
    """Requests pass the guard first; at most `max_sessions` clustertops run at once."""

    def __init__(
        self,
        command: str,
        *,
        guard: Guard,
        max_sessions: int,
        unix_socket: Path | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(command, **kwargs)
        self.guard = guard
        """What each request must show."""
        self.unix_socket = unix_socket
        """Serve on this unix socket instead of host:port."""
        self.max_sessions = max_sessions
        """The most clustertop processes (browser sessions) at once."""
        self.sessions = 0
        """Sessions running now."""
        self._freed = asyncio.Event()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(guard_middleware(self.guard))
        app.on_response_prepare.append(add_safety_headers)
        app.on_cleanup.append(self._remove_socket)
        return app

    async def _remove_socket(self, app: web.Application) -> None:
        """The socket this run listened on goes with it (never one it failed to bind)."""
        del app
        if self.unix_socket is not None:
            self.unix_socket.unlink(missing_ok=True)

    def start_url(self) -> str:
        """The URL to open: with the token, which the first visit turns into a cookie."""
        base = self.public_url.rstrip("/")
        if self.guard.token is None:
            return f"{base}/"
        return f"{base}/?{TOKEN_PARAM}={self.guard.token}"

    async def on_startup(self, app: web.Application) -> None:
        del app

        def say(text: str) -> None:
            # Plain, unwrapped text: the URL must stay one piece to be copied or parsed.
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)

        say(f"Serving {self.command!r}")
        if self.unix_socket is not None:
            say(f"on the unix socket {self.unix_socket}; from your own machine run")
            say(f"  ssh -N -L {self.port}:{self.unix_socket} {socket.gethostname()}")
        say(f"Open {self.start_url()}")
        if self.guard.token is not None:
            say("(the token in this URL lets its holder in: keep it private)")
        say("Press Ctrl+C to quit")

    def serve(self, debug: bool = False) -> None:
        """As textual-serve's, on the unix socket when there is one."""
        if self.unix_socket is None:
            super().serve(debug)
            return
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.add_signal_handler(signal.SIGINT, self.request_exit)
        loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            path=str(self.unix_socket),
            handle_signals=False,
            loop=loop,
            print=lambda *args: None,
        )

    def _base_url(self, request: web.Request) -> str:
        """The page's own origin (Host was checked), so its WebSocket is same-origin whether
        it was opened as localhost or 127.0.0.1; the public URL when it was opened there."""
        public = self.guard.public
        default_port = 443 if public is not None and public[0] == "https" else 80
        if public is not None and parse_authority(request.host, default_port) == public[1:]:
            return self.public_url.rstrip("/")
        return f"http://{request.host}"

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = self._base_url(request)
        websocket = ("wss:" if base.startswith("https:") else "ws:") + base.split(":", 1)[1]
        return {
            "font_size": _to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{websocket}/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        if not await self._take_slot():
            return await self._refuse_session(request)
        try:
            return await self._run_session(request)
        finally:
            self.sessions -= 1
            self._freed.set()

    async def _take_slot(self) -> bool:
        """Count one more session, waiting a little at the cap: a reloaded page opens its new
        socket while its old session is still ending."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SLOT_WAIT
        while self.sessions >= self.max_sessions:
            self._freed.clear()
            try:
                await asyncio.wait_for(self._freed.wait(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                return False
        self.sessions += 1  # no await since the check: two sockets cannot both take the last
        return True

    async def _refuse_session(self, request: web.Request) -> web.WebSocketResponse:
        """Say why in the page's terminal, and start nothing. The socket stays open until the
        browser leaves, so the message is not hidden under the page's "Session ended"."""
        log.warning("refused a session from %s: %d running", web_peer(request), self.sessions)
        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        await websocket.send_bytes(session_cap_message(self.max_sessions).encode())
        async for _message in websocket:
            pass
        return websocket

    async def _run_session(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's session, with the peer in the served clustertop's environment."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = _to_int(request.query.get("width", "80"), 80)
        height = _to_int(request.query.get("height", "24"), 24)
        peer = web_peer(request)
        log.info("session for %s", peer)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            app_service = PeerAppService(
                self.command,
                peer=peer,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # as textual-serve: one session's failure, logged
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket


def socket_path_problem(path: Path) -> str | None:
    """Why serving on `path` would not be private, or None. Makes its folder (0700) if
    missing: only a folder no one else can enter keeps other users off the socket."""
    if len(os.fsencode(path)) >= _UNIX_PATH_MAX:
        return f"unix socket path too long (at most {_UNIX_PATH_MAX - 1} bytes): {path}"
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        return f"cannot make the folder {folder}: {exc.strerror}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{folder} is not a folder (a link or a file); give a socket in a folder of yours"
    if info.st_uid != os.getuid():
        return f"the folder {folder} belongs to someone else; give a socket in a folder of yours"
    if info.st_mode & 0o077:
        mode = f"{stat.S_IMODE(info.st_mode):04o}"
        return f"others can enter the folder {folder} (mode {mode}): chmod 700 it, or use another"
    return _stale_socket_problem(path)


def _stale_socket_problem(path: Path) -> str | None:
    """Remove a socket left by a server that is gone; refuse to touch anything else."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISSOCK(info.st_mode):
        return f"{path} exists and is not a socket"
    with socket.socket(socket.AF_UNIX) as probe:
        if probe.connect_ex(str(path)) == 0:
            return f"a server is already listening on {path}"
    path.unlink()
    return None


def _to_int(value: str, default: int) -> int:
    try:
        return int(value)
    except ValueError:
        return default
