"""`clustertop serve` as a user starts it: a real process on a free port or a unix socket."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.waiting import wait_for


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int, unix_socket: Path | None = None) -> bool:
    family = socket.AF_INET if unix_socket is None else socket.AF_UNIX
    with socket.socket(family) as probe:
        probe.settimeout(1)
        return (
            probe.connect_ex(("127.0.0.1", port) if unix_socket is None else str(unix_socket)) == 0
        )


_START_URL = re.compile(r"^Open (http://\S+)$", re.MULTILINE)


def _start_url(log: Path) -> str:
    found = _START_URL.search(log.read_text())
    return found.group(1) if found else ""


@dataclass
class Served:
    """A running `clustertop serve`."""

    process: subprocess.Popen[str]
    """The server (its own process group)."""
    url: str
    """Its address, without the token."""
    start_url: str
    """The URL it printed for the user to open (with the token unless --no-auth)."""
    port: int
    """Its port on 127.0.0.1."""

    @property
    def token(self) -> str:
        """The token in the printed URL."""
        return self.start_url.split("?token=", 1)[1]

    def apps(self) -> list[psutil.Process]:
        """The clustertop apps it runs, one per browser session."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        apps = []
        for child in children:
            try:
                line = child.cmdline()
            except psutil.Error:
                continue
            if "clustertop" in line and "serve" not in line:
                apps.append(child)
        return apps

    def app_command_lines(self) -> list[list[str]]:
        """Command lines of the clustertop apps it runs, one per browser session."""
        lines = []
        for app in self.apps():
            try:
                lines.append(app.cmdline())
            except psutil.Error:
                continue
        return lines


@contextmanager
def serve(args: Sequence[str], folder: Path, unix_socket: Path | None = None) -> Iterator[Served]:
    """Run `clustertop serve --port <free> ARGS` until the block ends, then stop its group.
    With `unix_socket`, it listens there and the port is only the one it tells to tunnel to."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["XDG_CONFIG_HOME"] = str(folder / "xdg")  # never the developer's own config
    argv = [sys.executable, "-m", "clustertop", "serve", "--port", str(port), *args]
    if unix_socket is not None:
        argv[4:4] = ["--unix-socket", str(unix_socket)]
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    try:
        wait_for(
            lambda: _listening(port, unix_socket) or process.poll() is not None,
            30,
            what="the server",
        )
        assert process.poll() is None, (folder / "serve.log").read_text()
        start_url = wait_for(lambda: _start_url(folder / "serve.log"), 30, what="its URL")
        host = "127.0.0.1" if unix_socket is None else "localhost"
        yield Served(process, f"http://{host}:{port}/", start_url, port)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the apps it started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()


@asynccontextmanager
async def tunnel(port: int, unix_socket: Path) -> AsyncIterator[None]:
    """What `ssh -L PORT:SOCKET` does on the user's machine: 127.0.0.1:PORT to the socket."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    writers: list[asyncio.StreamWriter] = []

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        far_reader, far_writer = await asyncio.open_unix_connection(str(unix_socket))
        writers.extend((writer, far_writer))
        await asyncio.gather(pipe(reader, far_writer), pipe(far_reader, writer))

    server = await asyncio.start_server(forward, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
