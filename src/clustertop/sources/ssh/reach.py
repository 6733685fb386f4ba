"""The way to a host before SSH starts: its TCP connection, and the wait for its banner."""

from __future__ import annotations

import asyncio
import socket

import asyncssh

AI_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
"""getaddrinfo flags that never query DNS (an address needs no lookup)."""


async def open_socket(
    host: str, port: int, options: asyncssh.SSHClientConnectionOptions
) -> socket.socket:
    """A connected non-blocking TCP socket: each address in turn, as ssh does."""
    loop = asyncio.get_running_loop()
    family = options.family or socket.AF_UNSPEC
    try:  # an address needs no lookup: never queue it behind slow DNS in the thread pool
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0, AI_NUMERIC)
    except socket.gaierror:
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    errors: list[OSError] = []
    for fam, kind, proto, _, address in infos:
        sock = socket.socket(fam, kind, proto)
        try:
            sock.setblocking(False)
            if options.local_addr:
                sock.bind(options.local_addr)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            errors.append(exc)
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    if not errors:
        raise OSError(f"no address for {host}")
    raise errors[0]


async def wait_readable(sock: socket.socket) -> None:
    """Until the peer sends something (its SSH banner) or closes; nothing is read."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(sock.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(sock.fileno())
