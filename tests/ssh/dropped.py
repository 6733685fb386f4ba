"""Hosts that are powered off (packets dropped on a loopback range) and the ssh config naming them."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.fleet import loopback
from tests.fleet.fleet import Fleet
from tests.fleet.sshconfig import HostEntry, render_ssh_config


def _iptables(action: str, rule: Sequence[str]) -> subprocess.CompletedProcess[str]:
    # -w: wait for the xtables lock; other test runs may change rules at the same time.
    return subprocess.run(
        ["iptables", "-w", action, *rule], capture_output=True, text=True, check=False
    )


@contextlib.contextmanager
def dropped_range(avoid: str) -> Iterator[str]:
    """A random "127.A.B" prefix (not `avoid`) whose TCP packets the kernel drops, until exit."""
    if os.geteuid() != 0 or shutil.which("iptables") is None:
        pytest.skip("dropping packets needs root and iptables")
    base = loopback.random_base()
    while base == avoid:
        base = loopback.random_base()
    rule = ["INPUT", "-d", f"{base}.0/24", "-p", "tcp", "-j", "DROP"]
    added = _iptables("-A", rule)
    if added.returncode != 0:
        pytest.skip(f"iptables cannot add a DROP rule: {added.stderr.strip()}")
    try:
        yield base
    finally:
        # Deleted whatever happened; a failure to delete must not pass silently.
        removed = _iptables("-D", rule)
        assert removed.returncode == 0, f"iptables -D {' '.join(rule)}: {removed.stderr}"


def silent_entries(base: str, count: int, prefix: str = "dead") -> list[HostEntry]:
    """`count` aliases on the dropped range, port 22 (nothing there ever answers)."""
    return [HostEntry(f"{prefix}{i}", f"{base}.{i}", 22) for i in range(1, count + 1)]


def refused_entries(fleet: Fleet, count: int) -> list[HostEntry]:
    """`count` aliases on free ports of the fleet's own range: the kernel refuses them."""
    address = fleet.address(249)
    return [HostEntry(f"closed{i}", address, loopback.free_port(address)) for i in range(count)]


def behind_jump(fleet: Fleet, jump: str, count: int) -> list[HostEntry]:
    """`count` aliases of h1 reached through the jump alias `jump`."""
    h1 = fleet["h1"]
    hop = (("ProxyJump", jump),)
    return [HostEntry(f"via{i}", h1.address, h1.port, extra=hop) for i in range(1, count + 1)]


def write_config(path: Path, fleet: Fleet, entries: Sequence[HostEntry]) -> Path:
    """An ssh config with `entries`, then the fleet's own aliases (h1, h2, ...)."""
    body = render_ssh_config(entries, fleet.client_key, fleet.known_hosts)
    # The Include comes first: inside a Host block it would only apply to that block.
    path.write_text(f"Include {fleet.ssh_config}\n\n{body}")
    return path
