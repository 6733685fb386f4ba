"""A real terminal for end-to-end tests: a tmux session on a private server, keys in, text out."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.waiting import wait_for

SESSION = "ct"
"""Name of the one session of a TmuxTerminal."""


def tmux_available() -> bool:
    """True when the tmux command is installed."""
    return shutil.which("tmux") is not None


class TmuxTerminal:
    """One command running in a detached tmux session of a server nobody else uses (-L)."""

    def __init__(
        self, env: Mapping[str, str], output: Path, columns: int = 160, rows: int = 48
    ) -> None:
        self.socket = f"ct-e2e-{uuid.uuid4().hex[:12]}"
        """Name of the private tmux server socket."""
        self.env = dict(env)
        """Environment of the server, and so of the command."""
        self.size = (columns, rows)
        """Terminal size."""
        self.output = output
        """Every byte the command writes to the terminal (tmux pipe-pane)."""
        self.exit_file = output.with_name(output.name + ".exit")
        """The command's exit status, written by the pane's shell once the command has ended."""

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a tmux client command against this server."""
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=30,
            check=check,
        )

    def start(self, argv: Sequence[str]) -> None:
        """Start `argv` in the session; the pane stays (dead) after it exits, to be inspected."""
        columns, rows = self.size
        size = ["-x", str(columns), "-y", str(rows)]
        # The command waits for its terminal to be set up: output piped, pane kept after exit.
        # Its exit status goes to a file (renamed into place, never seen half written): tmux's
        # pane_dead (pty closed) and pane_dead_status (process reaped) are separate events in
        # tmux, and the status format differs between versions; the file is always written.
        ready = f"{SESSION}-ready"
        exit_file = shlex.quote(str(self.exit_file))
        script = (
            f"tmux -L {self.socket} wait-for {ready} || exit 99\n"
            f"{shlex.join(argv)}\n"
            f'echo "$?" >{exit_file}.tmp && mv {exit_file}.tmp {exit_file}\n'
        )
        # Given as argv, tmux runs /bin/sh itself, whatever the tester's $SHELL is.
        shell = ["/bin/sh", "-c", script]
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", SESSION, *size, *shell)
        self.tmux("set-option", "-t", SESSION, "remain-on-exit", "on")
        self.tmux("pipe-pane", "-t", SESSION, f"cat >> {shlex.quote(str(self.output))}")
        self.tmux("wait-for", "-S", ready)

    def screen(self) -> str:
        """The text on screen now."""
        return self.tmux("capture-pane", "-p", "-t", SESSION).stdout

    def wait_for_text(self, *parts: str, timeout: float = 30.0) -> str:
        """Wait (bounded) until the screen shows every one of `parts`; returns the screen."""

        def showing() -> str:
            shown = self.screen()
            return shown if all(part in shown for part in parts) else ""

        try:
            return wait_for(showing, timeout, interval=0.1, what=f"{parts} on screen")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen shows:\n{self.screen()}") from None

    def send(self, *keys: str) -> None:
        """Press keys (tmux key names: Enter, Escape, or single characters)."""
        for key in keys:
            self.tmux("send-keys", "-t", SESSION, key)

    def type(self, text: str) -> None:
        """Type `text` literally."""
        self.tmux("send-keys", "-t", SESSION, "-l", text)

    def exit_status(self, timeout: float = 15.0) -> int:
        """Wait (bounded) until the command has ended; its exit status (128 + N: signal N)."""
        text = wait_for(
            lambda: self.exit_file.is_file() and self.exit_file.read_text().strip(),
            timeout,
            what="the command to end (its exit status file)",
        )
        return int(text)

    def written(self) -> bytes:
        """What the command wrote to its terminal so far."""
        return self.output.read_bytes() if self.output.exists() else b""

    def pane(self, variable: str) -> str:
        """One of tmux's pane format variables (pane_dead, alternate_on...)."""
        return self.tmux("display-message", "-p", "-t", SESSION, f"#{{{variable}}}").stdout.strip()

    def kill(self) -> None:
        """Stop the server and whatever still runs in it."""
        self.tmux("kill-server", check=False)
