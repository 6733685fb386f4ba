"""Host key policy: known_hosts only, OpenSSH's accept-new on request, never a silent accept."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import asyncssh


@dataclass(frozen=True, slots=True)
class KeySeen:
    """A host key the server offered that known_hosts did not trust."""

    host: str
    """Name known_hosts is matched against (HostName or HostKeyAlias)."""
    port: int | None
    """Port (None for 22)."""
    algorithm: str
    """Key type, e.g. ssh-ed25519."""
    fingerprint: str
    """SHA256 fingerprint."""
    changed: bool
    """True when known_hosts holds a different key for this host."""
    learned: bool
    """True when accept-new wrote the key to known_hosts."""

    @property
    def pattern(self) -> str:
        """The host as known_hosts writes it."""
        return self.host if self.port in (None, 22) else f"[{self.host}]:{self.port}"

    def message(self, alias: str, known_hosts: Path | None) -> str:
        """What the user sees, with the fix."""
        where = str(known_hosts) if known_hosts else "~/.ssh/known_hosts"
        if self.changed:
            return (
                f"HOST KEY CHANGED for {self.pattern}: it now offers {self.algorithm} "
                f"{self.fingerprint}, which differs from {where}. This can mean an attack; if the "
                f"host was reinstalled, remove the old key with: ssh-keygen -f {where} -R "
                f"'{self.pattern}'"
            )
        return (
            f"unknown host key for {self.pattern}: {self.algorithm} {self.fingerprint}. "
            f"Check it, then accept it with `ssh {alias}` (answer yes), or run clustertop "
            f"with --accept-new-hostkeys"
        )


_write_lock = threading.Lock()


class HostKeyPolicy:
    """Decides on keys known_hosts does not trust; remembers the last one for the error text."""

    def __init__(self, known_hosts: list[Path], accept_new: bool) -> None:
        self.known_hosts = known_hosts
        """Files searched, in order; the first is where accept-new writes."""
        self.accept_new = accept_new
        """OpenSSH's StrictHostKeyChecking=accept-new."""
        self.seen: KeySeen | None = None
        """The last untrusted key offered."""

    def _readable(self) -> list[str]:
        return [str(p) for p in self.known_hosts if p.is_file() and os.access(p, os.R_OK)]

    def has_entry(self, host: str, addr: str, port: int | None) -> bool:
        """True when any known_hosts file names this host (with any key)."""
        files = self._readable()
        if not files:
            return False
        try:
            trusted, cas, *_ = asyncssh.match_known_hosts(files, host, addr, port)
        except (OSError, ValueError):
            return False
        return bool(trusted or cas)

    def decide(self, host: str, addr: str, port: int | None, key: asyncssh.SSHKey) -> bool:
        """Called for a key known_hosts does not trust: learn it (accept-new) or refuse it."""
        changed = self.has_entry(host, addr, port)
        learn = self.accept_new and not changed and bool(self.known_hosts)
        self.seen = KeySeen(
            host=host,
            port=port if port not in (None, 22) else None,
            algorithm=key.get_algorithm(),
            fingerprint=key.get_fingerprint("sha256"),
            changed=changed,
            learned=learn,
        )
        if learn:
            self._append(self.seen, key)
        return learn

    def _append(self, seen: KeySeen, key: asyncssh.SSHKey) -> None:
        path = self.known_hosts[0]
        line = key.export_public_key("openssh").decode().split()[:2]
        with _write_lock:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as handle:
                handle.write(f"{seen.pattern} {' '.join(line)}\n")
