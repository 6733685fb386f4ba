"""The Host and Origin rules of `clustertop serve`, address by address."""

from __future__ import annotations

import socket

import pytest

from clustertop.cli.web_guard import host_problem, make_guard, origin_problem

LOOPBACK = make_guard("127.0.0.1", 8000, None, "t")
BEHIND_PROXY = make_guard("127.0.0.1", 8000, "https://portal.example.org", "t")


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:8000", True),
        ("localhost:8000", True),
        ("LOCALHOST:8000", True),
        ("127.0.0.1:8001", False),  # another user's server
        ("127.0.0.1", False),  # port 80
        ("evil.example:8000", False),  # DNS rebinding
        ("127.0.0.1.evil.example:8000", False),
        ("[::1]:8000", False),  # not bound there
        ("", False),
        ("127.0.0.1:8000/x", False),
        ("user@127.0.0.1:8000", False),
        ("127.0.0.1:8000 evil", False),
        ("127.0.0.1:notaport", False),
    ],
)
def test_a_loopback_server_answers_to_its_own_names_only(host: str, answered: bool) -> None:
    assert (host_problem(LOOPBACK, host) is None) is answered


def test_localhost_covers_both_loopback_addresses() -> None:
    guard = make_guard("localhost", 8000, None, "t")
    for host in ("localhost:8000", "127.0.0.1:8000", "[::1]:8000"):
        assert host_problem(guard, host) is None, host
    assert host_problem(guard, "evil.example:8000") is not None


def test_every_interface_answers_to_any_address_and_its_own_name() -> None:
    guard = make_guard("0.0.0.0", 8000, None, "t")
    for host in ("10.1.2.3:8000", "[fe80::1]:8000", f"{socket.gethostname()}:8000"):
        assert host_problem(guard, host) is None, host
    assert host_problem(guard, "evil.example:8000") is not None
    assert host_problem(guard, "10.1.2.3:8001") is not None


def test_the_public_url_is_answered_too() -> None:
    assert host_problem(BEHIND_PROXY, "portal.example.org") is None  # https: port 443
    assert host_problem(BEHIND_PROXY, "portal.example.org:443") is None
    assert host_problem(BEHIND_PROXY, "portal.example.org:80") is not None


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://localhost:8000", "localhost:8000", True),
        ("http://localhost:8000", "127.0.0.1:8000", False),  # not the same origin
        ("http://127.0.0.1:9000", "127.0.0.1:8000", False),  # same site, another port
        ("https://127.0.0.1:8000", "127.0.0.1:8000", False),
        ("http://evil.example", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),  # a sandboxed frame or a file
        ("file://", "127.0.0.1:8000", False),
        (None, "127.0.0.1:8000", False),
        ("", "127.0.0.1:8000", False),
    ],
)
def test_only_the_servers_own_page_may_open_a_websocket(
    origin: str | None, host: str, allowed: bool
) -> None:
    assert (origin_problem(LOOPBACK, origin, host) is None) is allowed


def test_the_public_urls_page_may_open_one_whatever_host_the_proxy_sends() -> None:
    assert origin_problem(BEHIND_PROXY, "https://portal.example.org", "127.0.0.1:8000") is None
    assert origin_problem(BEHIND_PROXY, "http://portal.example.org", "127.0.0.1:8000") is not None
