"""A loopback fleet of real OpenSSH servers: one sshd per address, each in its own CPU group."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.fleet.sshd import SSHD, banner_ready, generate_key

from benchmarks import cgroups, standins
from benchmarks.cgroups import CpuGroup

START_TIMEOUT = 30.0
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


def loopback_addresses(count: int, second: int, third: int = 0) -> list[str]:
    """`count` addresses 127.second.third.1.. (250 per third octet), none ending in 0 or 255."""
    return [f"127.{second}.{third + i // 250}.{1 + i % 250}" for i in range(count)]


def port_free(address: str, port: int) -> bool:
    """True when nothing listens on address:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class ClientFiles:
    """What every client (clustertop, ssh, pdsh, clush, asyncssh) uses to reach the fleet."""

    ssh_config: Path
    """`Host 127.*`: user, port, key, strict host key checking against known_hosts."""
    known_hosts: Path
    """One `[address]:port` line per host."""
    client_key: Path
    """Private key authorized for root on every host."""
    port: int
    """The port every host listens on."""


def write_client_files(
    root: Path, port: int, keys: dict[str, str], client_key: Path
) -> ClientFiles:
    """ssh_config and known_hosts in `root` for hosts `keys` (address -> "type base64")."""
    root.mkdir(parents=True, exist_ok=True)
    known = root / "known_hosts"
    known.write_text("".join(f"[{addr}]:{port} {key}\n" for addr, key in keys.items()))
    config = root / "ssh_config"
    options = [
        ("User", "root"),
        ("Port", str(port)),
        ("IdentityFile", str(client_key)),
        ("IdentitiesOnly", "yes"),
        ("UserKnownHostsFile", str(known)),
        ("GlobalKnownHostsFile", "/dev/null"),
        ("StrictHostKeyChecking", "yes"),
        ("BatchMode", "yes"),
        ("PasswordAuthentication", "no"),
        ("ConnectTimeout", "20"),
        ("LogLevel", "ERROR"),
    ]
    config.write_text("Host 127.*\n" + "".join(f"  {k} {v}\n" for k, v in options))
    return ClientFiles(config, known, client_key, port)


class SimHost:
    """One simulated host: an sshd on its own loopback address, charged to its own CPU group."""

    def __init__(self, root: Path, address: str, port: int, group: CpuGroup) -> None:
        self.root = root
        """Its folder: host key, sshd_config, log."""
        self.address = address
        """Its loopback address (also its name for every client)."""
        self.port = port
        """Its sshd port."""
        self.group = group
        """CPU group of its sshd and every session process (stand-ins leave it)."""
        self.process: subprocess.Popen[bytes] | None = None
        """The listening sshd."""

    def config_text(self, authorized_keys: Path, env: dict[str, str]) -> str:
        """sshd_config: loopback, keys only, no PAM; MaxStartups raised for peers' bursts."""
        lines = [
            f"ListenAddress {self.address}:{self.port}",
            f"HostKey {self.root / 'host_key'}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {authorized_keys}",
            "UsePAM no",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "StrictModes no",
            "AllowTcpForwarding no",
            "X11Forwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            # Defaults 10:30:100 and 10 would refuse a fan-out burst or many channels.
            "MaxStartups 1000:30:2000",
            "MaxSessions 64",
            "AllowUsers root",
            "SetEnv " + " ".join(f"{k}={v}" for k, v in env.items()),
        ]
        return "\n".join(lines) + "\n"

    def spawn(self, authorized_keys: Path, env: dict[str, str]) -> None:
        """Write its config and start sshd inside its CPU group (not waiting for the banner)."""
        config = self.root / "sshd_config"
        config.write_text(self.config_text(authorized_keys, env))
        argv = [SSHD, "-D", "-E", str(self.root / "sshd.log"), "-f", str(config)]
        # The trampoline joins the group before exec, so sshd and every session it forks count.
        trampoline = 'echo $$ >"$0" && exec "$@"'
        self.process = subprocess.Popen(
            ["sh", "-c", trampoline, str(self.group.procs_file), *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Stop sshd and every process of its sessions (everything in its CPU group)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        for pid in self.group.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class SshFleet:
    """N real sshds on 127.S.T.x, one shared port, stand-ins on PATH, CPU groups per host."""

    def __init__(self, parent: Path, count: int) -> None:
        if not cgroups.available():
            raise RuntimeError("needs root and a cgroup v1 cpuacct hierarchy at /sys/fs/cgroup")
        run_id = secrets.token_hex(3)
        self.root = parent / f"ctb-{run_id}"
        """The fleet's folder."""
        self.group = CpuGroup(cgroups.CPUACCT / f"ctbench-{run_id}").create()
        """Parent CPU group of the run."""
        self.standin_group = CpuGroup(self.group.path / "standins").create()
        """CPU group every stand-in call moves itself into."""
        second = 16 + secrets.randbelow(200)
        self.addresses = loopback_addresses(count, second)
        """One address per host, in order."""
        self.hosts: list[SimHost] = []
        """The hosts, in address order."""
        self.client: ClientFiles | None = None
        """Client files, once started."""
        self.host_keys: dict[str, str] = {}
        """Public host key per address."""

    def _pick_port(self) -> int:
        for _ in range(50):
            port = 20000 + secrets.randbelow(30000)
            if all(port_free(addr, port) for addr in self.addresses[:5]):
                return port
        raise RuntimeError("no free port on the fleet's loopback addresses")

    def start(self) -> ClientFiles:
        """Keys, stand-ins, configs, every sshd started and greeting; stops all on failure."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> ClientFiles:
        self.root.mkdir(parents=True)
        self.root.chmod(0o755)
        home = self.root / "home"
        home.mkdir()
        stand = standins.install(self.root / "standins")
        key = generate_key(self.root / "id_client", "ctbench-client")
        authorized = self.root / "authorized_keys"
        authorized.write_text(key.with_name(key.name + ".pub").read_text())
        port = self._pick_port()
        self.hosts = [
            SimHost(self.root / f"h{i:04d}", addr, port, CpuGroup(self.group.path / f"h{i:04d}"))
            for i, addr in enumerate(self.addresses)
        ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            keys = dict(pool.map(self._prepare_host, self.hosts))
        for index, host in enumerate(self.hosts):
            env = {
                "PATH": f"{stand.bin_dir}:{SYSTEM_PATH}",
                "HOME": str(home),
                "CT_HOST": f"h{index:04d}",
                "CTB_DATA": str(stand.data_dir),
                "CTB_STANDIN_CG": str(self.standin_group.procs_file),
            }
            host.spawn(authorized, env)
        self._wait_ready()
        self.host_keys = keys
        self.client = write_client_files(self.root, port, keys, key)
        return self.client

    def client_files(self, count: int) -> ClientFiles:
        """Client files naming only the first `count` hosts (known_hosts as long as the fleet)."""
        assert self.client is not None
        chosen = {a: self.host_keys[a] for a in self.addresses[:count]}
        return write_client_files(
            self.root / f"client-{count}", self.client.port, chosen, self.client.client_key
        )

    def _prepare_host(self, host: SimHost) -> tuple[str, str]:
        host.root.mkdir()
        host.group.create()
        generate_key(host.root / "host_key", f"host@{host.address}")
        words = (host.root / "host_key.pub").read_text().split()
        return host.address, f"{words[0]} {words[1]}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for host in self.hosts:
            while not banner_ready(host.address, host.port):
                if host.process is None or host.process.poll() is not None:
                    log = (host.root / "sshd.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"sshd for {host.address} exited:\n{log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sshd for {host.address} silent after {START_TIMEOUT} s")
                time.sleep(0.02)

    def host_usage_ns(self) -> list[int]:
        """CPU ns charged so far to each host's sessions (stand-ins excluded), in host order."""
        return [host.group.usage_ns() for host in self.hosts]

    def standin_usage_ns(self) -> int:
        """CPU ns charged so far to all stand-in calls."""
        return self.standin_group.usage_ns()

    def kill_sessions(self) -> None:
        """End every session process (not the listeners): a clean slate between tools."""
        listeners = {h.process.pid for h in self.hosts if h.process is not None}
        for host in self.hosts:
            for pid in host.group.pids():
                if pid not in listeners:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        for pid in self.standin_group.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop every sshd and session, remove the CPU groups and the folder."""
        for host in self.hosts:
            host.stop()
        self.kill_sessions()
        self.group.remove()
        shutil.rmtree(self.root, ignore_errors=True)
