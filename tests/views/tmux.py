"""A real terminal for end-to-end UI tests: one private tmux server per test."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.waiting import wait_for

TMUX = shutil.which("tmux")
"""The tmux binary, or None (the tests that need it skip)."""


class Tmux:
    """One detached session on its own server socket, running one command."""

    def __init__(self, socket: Path, config: Path) -> None:
        self.socket = socket
        """The server's socket: nothing else talks to this server."""
        self.config = config
        """Its config file."""

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert TMUX is not None
        argv = [TMUX, "-S", str(self.socket), "-f", str(self.config), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)

    def start(self, argv: Sequence[str], env: Mapping[str, str], size: tuple[int, int]) -> None:
        """Run `argv` in a new session of `size` columns x rows, with exactly `env`."""
        command = "exec env -i " + shlex.join([f"{k}={v}" for k, v in env.items()] + list(argv))
        columns, rows = size
        done = self._run("new-session", "-d", "-x", str(columns), "-y", str(rows), command)
        assert done.returncode == 0, done.stderr

    def screen(self) -> str:
        """What the terminal shows now (empty once the session is gone)."""
        return self._run("capture-pane", "-p").stdout

    def keys(self, *keys: str) -> None:
        """Type keys (tmux key names: 'q', 'Enter', 'Escape')."""
        self._run("send-keys", *keys)

    def wait_for_text(self, text: str, timeout: float = 20.0) -> str:
        """Wait until the screen shows `text`; returns the screen (on timeout, says what it shows)."""
        try:
            return wait_for(lambda: text in (shown := self.screen()) and shown, timeout, what=text)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen shows:\n{self.screen()}") from None

    def alive(self) -> bool:
        """True while the session (the command) runs."""
        return self._run("has-session").returncode == 0

    def buffer(self) -> str:
        """The newest paste buffer (what an application copied with OSC 52)."""
        return self._run("show-buffer").stdout

    def kill(self) -> None:
        """Stop this server and whatever still runs in it."""
        self._run("kill-server")


@contextmanager
def tmux_session(folder: Path, config: str = "") -> Iterator[Tmux]:
    """A private tmux server in `folder`, killed afterwards."""
    conf = folder / "tmux.conf"
    conf.write_text(config)
    session = Tmux(folder / "tmux.sock", conf)
    try:
        yield session
    finally:
        session.kill()
