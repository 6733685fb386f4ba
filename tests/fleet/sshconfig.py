"""Client-side files of a fleet: ssh_config host blocks and known_hosts lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class HostEntry:
    """One `Host` block of the fleet's ssh_config."""

    alias: str
    """The name clients use (`ssh -F cfg ALIAS`)."""
    address: str
    """HostName: a loopback address ("": none, the alias is a pattern such as `127.*`)."""
    port: int
    """Port."""
    user: str = "root"
    """User."""
    identity: Path | None = None
    """IdentityFile; None uses the fleet's client key."""
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """Further options, e.g. (("ProxyJump", "jump"),)."""


def render_ssh_config(entries: Sequence[HostEntry], client_key: Path, known_hosts: Path) -> str:
    """An ssh_config with one strict, key-only block per entry."""
    blocks = []
    for entry in entries:
        options = [
            *([("HostName", entry.address)] if entry.address else []),
            ("Port", str(entry.port)),
            ("User", entry.user),
            ("IdentityFile", str(entry.identity or client_key)),
            ("IdentitiesOnly", "yes"),
            ("UserKnownHostsFile", str(known_hosts)),
            ("GlobalKnownHostsFile", "/dev/null"),
            ("StrictHostKeyChecking", "yes"),
            ("PasswordAuthentication", "no"),
            *entry.extra,
        ]
        blocks.append(f"Host {entry.alias}\n" + "".join(f"  {k} {v}\n" for k, v in options))
    return "\n".join(blocks)


def known_hosts_line(address: str, port: int, public_key: str) -> str:
    """`[address]:port keytype key`, the form OpenSSH writes for non-22 ports."""
    host = address if port == 22 else f"[{address}]:{port}"
    return f"{host} {public_key}"


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace `path` in one rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)
