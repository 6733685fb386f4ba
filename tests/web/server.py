"""`clustertop serve` as a user starts it: a real process on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.waiting import wait_for


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


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
def serve(args: Sequence[str], folder: Path) -> Iterator[Served]:
    """Run `clustertop serve --port <free> ARGS` until the block ends, then stop its group."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env["XDG_CONFIG_HOME"] = str(folder / "xdg")  # never the developer's own config
    argv = [sys.executable, "-m", "clustertop", "serve", "--port", str(port), *args]
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    try:
        wait_for(lambda: _listening(port) or process.poll() is not None, 30, what="the server")
        assert process.poll() is None, (folder / "serve.log").read_text()
        start_url = wait_for(lambda: _start_url(folder / "serve.log"), 30, what="its URL")
        yield Served(process, f"http://127.0.0.1:{port}/", start_url, port)
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the apps it started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        log.close()
