"""Who may use `clustertop serve`: the token, the Host and Origin a browser sends, the cookie."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
import socket
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware
from yarl import URL

log = logging.getLogger("clustertop.serve")

TOKEN_PARAM = "token"
"""The query parameter that carries the token on the first visit."""
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
"""Bind addresses that mean every interface."""
_NOT_AN_AUTHORITY = set("/?#@\\ \t")
_DEFAULT_PORTS = {"http": 80, "https": 443}

Authority = tuple[str, int]
"""A lower-case host name (IPv6 without brackets) and a port."""


@dataclass(frozen=True)
class Guard:
    """What every request must show: a Host this server answers to, a same-origin Origin on
    the WebSocket, and the token (in the query or the cookie) unless authentication is off."""

    port: int | None
    """The port it listens on; None on a unix socket, whose tunnel's far end picks it."""
    names: frozenset[str]
    """The host names and addresses it answers to at `port`."""
    token: str | None
    """The secret; None with --no-auth."""
    cookie_name: str
    """Cookies ignore ports: two servers on one host (two users) must not share one name."""
    any_ip: bool = False
    """Bound to every interface: any IP address in Host is its own (no DNS is involved)."""
    public: tuple[str, str, int] | None = None
    """Scheme, host and port of --public-url, which it also answers to."""


def new_token() -> str:
    """A fresh secret for one server run."""
    return secrets.token_urlsafe(32)


def served_names(host: str) -> tuple[frozenset[str], bool]:
    """The Host names a server bound to `host` answers to, and whether any IP literal is fine."""
    name = host.strip("[]").lower()
    if name in WILDCARDS:
        own = {socket.gethostname().lower(), socket.getfqdn().lower()}
        return frozenset({*own, "localhost"}), True
    if name == "localhost":
        return frozenset({"localhost", "127.0.0.1", "::1"}), False
    if _is_loopback_ip(name):
        return frozenset({name, "localhost"}), False
    return frozenset({name, socket.gethostname().lower(), socket.getfqdn().lower()}), False


def make_guard(host: str, port: int, public_url: str | None, token: str | None) -> Guard:
    """The guard of a server bound to host:port, reached at `public_url` if given."""
    names, any_ip = served_names(host)
    cookie = f"clustertop_token_{port}"
    return Guard(port, names, token, cookie, any_ip=any_ip, public=_public(public_url))


def unix_socket_guard(path: str, public_url: str | None, token: str | None) -> Guard:
    """The guard of a server on a unix socket, reached through `ssh -L PORT:path`: the
    browser's Host is a loopback name with whatever local port the tunnel listens on."""
    names = frozenset({"localhost", "127.0.0.1", "::1"})
    cookie = "clustertop_token_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    return Guard(None, names, token, cookie, public=_public(public_url))


def _public(public_url: str | None) -> tuple[str, str, int] | None:
    url = URL(public_url or "")
    if url.scheme in ("http", "https") and url.host and url.port:
        return url.scheme, url.host.lower(), url.port
    return None


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def parse_authority(value: str, default_port: int = 80) -> Authority | None:
    """'host:port' (or '[v6]:port', or 'host' for `default_port`) as a Host header carries it."""
    if not value or _NOT_AN_AUTHORITY & set(value):
        return None
    try:
        url = URL(f"http://{value}")
        port = url.explicit_port
    except ValueError:
        return None
    if not url.host:
        return None
    return url.host.lower().rstrip("."), default_port if port is None else port


def host_problem(guard: Guard, host_header: str) -> str | None:
    """Why this Host is refused (a DNS rebinding page sends its own name), or None."""
    authority = parse_authority(host_header)
    if authority is None:
        return f"Host {host_header!r} is not host:port"
    name, port = authority
    public = guard.public
    if public is not None and parse_authority(host_header, _DEFAULT_PORTS[public[0]]) == public[1:]:
        return None
    if guard.port in (None, port) and (name in guard.names or (guard.any_ip and _is_ip(name))):
        return None
    return (
        f"Host {host_header!r} is not an address of this server (it answers to the one in the "
        "URL it printed; start it with --public-url for another name)"
    )


def origin_problem(guard: Guard, origin: str | None, host_header: str) -> str | None:
    """Why a WebSocket from this Origin is refused, or None: only this server's own page may
    open one (browsers always send Origin; a page elsewhere must never drive a session)."""
    if not origin:
        return "no Origin"
    url = URL(origin) if "\\" not in origin else None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.port is None:
        return f"Origin {origin!r} is not a web page's"
    scheme, authority = url.scheme, (url.host.lower(), url.port)
    if guard.public is not None and (scheme, *authority) == guard.public:
        return None
    if scheme == "http" and authority == parse_authority(host_header):
        return None
    return f"a page from {origin!r} may not open a session here"


def token_problem(guard: Guard, request: web.Request) -> tuple[int, str] | None:
    """(HTTP status, why) when the request lacks the right token, or None."""
    if guard.token is None:
        return None
    offered = request.query.get(TOKEN_PARAM) or request.cookies.get(guard.cookie_name)
    if not offered:
        return 401, "this address needs its token"
    if not hmac.compare_digest(offered.encode(), guard.token.encode()):
        return 403, "wrong or outdated token (each start of the server makes a new one)"
    return None


def _refuse(request: web.Request, status: int, why: str) -> web.Response:
    log.warning("refused %s %s from %s: %s", request.method, request.path, request.remote, why)
    text = (
        f"clustertop serve: refused: {why}.\n"
        "Open the URL with ?token=... that `clustertop serve` printed when it started.\n"
    )
    return web.Response(status=status, text=text)


def guard_middleware(guard: Guard) -> Middleware:
    """An aiohttp middleware refusing, before any handler runs (so before any clustertop
    starts), requests with a foreign Host, a WebSocket from a foreign Origin, or no token."""

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        host_header = request.headers.get(hdrs.HOST, "")
        why = host_problem(guard, host_header)
        origin = request.headers.get(hdrs.ORIGIN)
        if why is None and (origin is not None or _is_websocket(request)):
            why = origin_problem(guard, origin, host_header)
        if why is not None:
            return _refuse(request, 403, why)
        problem = token_problem(guard, request)
        if problem is not None:
            return _refuse(request, *problem)
        response = await handler(request)
        if guard.token and request.query.get(TOKEN_PARAM) and not response.prepared:
            _set_cookie(guard, response)
        return response

    return check


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get(hdrs.UPGRADE, "").lower() == "websocket"


def _set_cookie(guard: Guard, response: web.StreamResponse) -> None:
    assert guard.token is not None
    secure = guard.public is not None and guard.public[0] == "https"
    response.set_cookie(
        guard.cookie_name, guard.token, path="/", httponly=True, samesite="Strict", secure=secure
    )


async def add_safety_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The page's URL may carry the token: never pass it on, cache it or frame the page."""
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if not request.path.startswith("/static/"):  # the scripts are textual-serve's, public
        response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
