"""One real OpenSSH server on a loopback address, with its own host key and environment."""

from __future__ import annotations

import pwd
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.fleet import procs

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 10.0
LOGIN_USER = "ctuser"
"""A non-root account the fleet's key may log in as (not in the docker group)."""


def generate_key(path: Path, comment: str) -> Path:
    """A fresh ed25519 key pair without passphrase at `path` and `path`.pub."""
    for old in (path, path.with_name(path.name + ".pub")):
        old.unlink(missing_ok=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def _password_locked(name: str) -> bool:
    """True when the shadow password starts with "!": sshd without PAM refuses such accounts."""
    try:
        lines = Path("/etc/shadow").read_text().splitlines()
    except OSError:
        return False
    return any(line.split(":")[0] == name and line.split(":")[1].startswith("!") for line in lines)


def ensure_login_user(name: str = LOGIN_USER) -> pwd.struct_passwd:
    """The non-root login account (key login only), created with a home when missing."""
    try:
        pwd.getpwnam(name)
    except KeyError:
        # "*": no password can match, yet the account is not "locked" as "!" would make it.
        subprocess.run(
            ["useradd", "-m", "-s", "/bin/bash", "-p", "*", name], capture_output=True, check=False
        )
    if _password_locked(name):
        subprocess.run(["usermod", "-p", "*", name], capture_output=True, check=False)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(f"could not create the login user {name} (useradd failed)") from None


def _setenv_line(env: Mapping[str, str]) -> str:
    for key, value in env.items():
        if any(c in key + value for c in '"\n\\ '):
            raise ValueError(f"SetEnv value for {key} must not contain quotes, spaces or newlines")
    return "SetEnv " + " ".join(f"{k}={v}" for k, v in env.items())


def banner_ready(address: str, port: int) -> bool:
    """True when something on address:port greets with an SSH banner."""
    try:
        with socket.create_connection((address, port), timeout=1.0) as sock:
            return sock.recv(64).startswith(b"SSH-")
    except OSError:
        return False


class SshServer:
    """`sshd -D -e -f <own config>` for one simulated host."""

    def __init__(
        self,
        root: Path,
        address: str,
        port: int,
        *,
        authorized_keys: Path,
        root_env: Mapping[str, str],
        user_env: Mapping[str, str],
        allow_tcp_forwarding: bool = True,
        options: Sequence[str] = (),
        launcher: Sequence[str] = (),
    ) -> None:
        self.root = root
        """Folder with the host key, config, pid file and log."""
        self.address = address
        """Loopback address it listens on."""
        self.port = port
        """TCP port it listens on (kept across restarts)."""
        self.authorized_keys = authorized_keys
        """The fleet's authorized_keys file, shared by all users."""
        self.root_env = dict(root_env)
        """SetEnv for root sessions."""
        self.user_env = dict(user_env)
        """SetEnv for every other user's sessions."""
        self.allow_tcp_forwarding = allow_tcp_forwarding
        """Whether the host may serve as a ProxyJump hop."""
        self.options = tuple(options)
        """More sshd_config lines (before the Match blocks), e.g. a higher MaxStartups."""
        self.launcher = tuple(launcher)
        """argv prefix sshd is started through (it must exec sshd, e.g. to join a cgroup)."""
        self.process: subprocess.Popen[bytes] | None = None
        """The listening sshd, or None while stopped."""

    @property
    def host_key(self) -> Path:
        """Private host key file."""
        return self.root / "ssh_host_ed25519_key"

    @property
    def config_path(self) -> Path:
        """sshd_config of this host."""
        return self.root / "sshd_config"

    @property
    def log_path(self) -> Path:
        """sshd's stderr log (-e)."""
        return self.root / "sshd.log"

    @property
    def running(self) -> bool:
        """True while the listening sshd is alive."""
        return self.process is not None and self.process.poll() is None

    def public_host_key(self) -> str:
        """ "ssh-ed25519 AAAA..." of the current host key."""
        text = self.host_key.with_name(self.host_key.name + ".pub").read_text().split()
        return f"{text[0]} {text[1]}"

    def config_text(self) -> str:
        """The sshd_config: loopback only, keys only, no PAM, SetEnv per user class."""
        lines = [
            f"ListenAddress {self.address}:{self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            # The fleet's files sit in /tmp; ownership checks would refuse them for ctuser.
            "StrictModes no",
            f"AllowTcpForwarding {'yes' if self.allow_tcp_forwarding else 'no'}",
            "X11Forwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            f"AllowUsers root {LOGIN_USER}",
            "Subsystem sftp internal-sftp",
            *self.options,
            # sshd keeps only the first SetEnv line that applies: root's block must come first.
            "Match User root",
            "  " + _setenv_line(self.root_env),
            "Match all",
            "  " + _setenv_line(self.user_env),
        ]
        return "\n".join(lines) + "\n"

    def prepare(self) -> None:
        """Write the config and, if missing, a host key; check the config with `sshd -t`."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.host_key.exists():
            generate_key(self.host_key, f"host@{self.address}")
        self.config_path.write_text(self.config_text())
        # `sshd -t` needs the privilege separation dir, which only a started service creates.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        check = subprocess.run(
            [SSHD, "-t", "-f", str(self.config_path)], capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"sshd rejects {self.config_path}: {check.stderr.strip()}")

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start sshd and wait (bounded) until it greets on its port."""
        if self.running:
            return
        self.prepare()
        argv = [*self.launcher, SSHD, "-D", "-e", "-f", str(self.config_path)]
        self.process = procs.spawn(argv, self.log_path)
        deadline = time.monotonic() + timeout
        while not banner_ready(self.address, self.port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"sshd exited with {self.process.returncode}:\n{procs.log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd silent after {timeout} s:\n{procs.log_tail(self.log_path)}"
                )
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop listening and end every session of this host, as if it powered off."""
        if self.process is None:
            return
        sessions = procs.descendants(self.process.pid)
        procs.stop_process(self.process, timeout=5)
        procs.kill_pids(sessions)
        self.process = None

    def regenerate_host_key(self) -> None:
        """A new host key (clients' known_hosts now mismatch); restarts sshd if it was running."""
        was_running = self.running
        self.stop()
        generate_key(self.host_key, f"host@{self.address}")
        if was_running:
            self.start()
