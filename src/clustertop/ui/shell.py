"""Open a shell on a host: suspend the TUI, run the user's own ssh (or $SHELL locally), resume."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from textual.app import App, SuspendNotSupported

from clustertop.inventory.hosts import HostSpec

ShellMode = Literal["ssh", "local", "none"]
"""ssh: remote hosts; local: this machine; none: nothing to open (the demo)."""


@dataclass(frozen=True, slots=True)
class ShellLauncher:
    """How `o` reaches a host: the same alias, user, port and ssh config clustertop used."""

    mode: ShellMode = "none"
    """What kind of hosts these are."""
    ssh_config: Path | None = None
    """The `-F` file clustertop was started with (None: ssh's own default)."""
    hosts: Mapping[str, HostSpec] = field(default_factory=dict)
    """Host specs by the name shown in the grid (`user@alias:port` when given so)."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """Environment to read $SHELL from."""

    def argv(self, host: str) -> list[str] | None:
        """The command that opens a shell on `host`, or None when there is none to open."""
        if self.mode == "local":
            return [self.environ.get("SHELL") or "/bin/sh"]
        spec = self.hosts.get(host)
        if self.mode != "ssh" or spec is None:
            return None
        argv = ["ssh"]
        if self.ssh_config is not None:
            argv += ["-F", str(self.ssh_config)]
        if spec.port is not None:
            argv += ["-p", str(spec.port)]
        if spec.user:
            argv += ["-l", spec.user]
        # `--`: a host named like an option (-oProxyCommand=...) stays a host name.
        return [*argv, "--", spec.name]


def run_suspended(app: App[Any], argv: list[str]) -> str | None:
    """Run `argv` on the terminal with the TUI suspended; None when it ran, else why not.

    A non-zero exit (ssh could not connect, the shell's last command failed) is the user's to
    see on their terminal, not an error here.
    """
    try:
        with app.suspend():
            subprocess.run(argv, check=False)  # a list: no shell parses it
    except SuspendNotSupported:
        return "this terminal cannot hand over to a shell (web or headless)"
    except OSError as exc:
        return f"{argv[0]}: {exc.strerror or exc}"
    # Textual repaints on resume, but that paint can land before the terminal is back on the
    # alternate screen: paint it all again once the resumed driver has settled (a host that
    # never changes would stay blank).
    for delay in (0.3, 1.5):
        app.set_timer(delay, lambda: app.screen.refresh(repaint=True, layout=True))
    return None


def launcher_for(
    *, demo: bool, ssh_config: Path | None, specs: Sequence[HostSpec]
) -> ShellLauncher:
    """The launcher for how clustertop was started: demo, this machine, or SSH hosts."""
    if demo:
        return ShellLauncher()
    if not specs:
        return ShellLauncher("local")
    return ShellLauncher("ssh", ssh_config, {spec.display: spec for spec in specs})
