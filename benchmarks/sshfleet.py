"""The benchmark's real-sshd fleet: the test fleet's hosts, each charged to its own CPU group."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.fleet import loopback
from tests.fleet.fleet import Fleet
from tests.fleet.simhost import HostPlan
from tests.fleet.sshconfig import HostEntry, known_hosts_line, render_ssh_config, write_atomic
from tests.fleet.sshd import SSHD

from benchmarks import cgroups, standins
from benchmarks.cgroups import CpuGroup

__all__ = ["SSHD", "ClientFiles", "SshFleet", "write_client_files"]

SSHD_OPTIONS = ("MaxStartups 1000:30:2000", "MaxSessions 64")
"""sshd's defaults (10:30:100 and 10) would refuse a fan-out burst or many channels."""
JOIN_GROUP = 'echo $$ >"$0" && exec "$@"'
"""sh trampoline: join the CPU group (file in $0), then exec sshd, so its sessions count too."""


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
    root: Path, port: int, keys: Mapping[str, str], client_key: Path
) -> ClientFiles:
    """ssh_config (one `Host 127.*` block) and known_hosts for hosts `keys` (address -> key)."""
    root.mkdir(parents=True, exist_ok=True)
    known, config = root / "known_hosts", root / "ssh_config"
    write_atomic(known, "".join(known_hosts_line(a, port, k) + "\n" for a, k in keys.items()))
    batch = (("BatchMode", "yes"), ("ConnectTimeout", "20"), ("LogLevel", "ERROR"))
    pattern = HostEntry("127.*", "", port, extra=batch)  # one block: no per-host config parse
    write_atomic(config, render_ssh_config([pattern], client_key, known))
    return ClientFiles(config, known, client_key, port)


class SshFleet:
    """N real sshds (tests.fleet) on 127.A.B.x, one shared port, stand-ins first on PATH."""

    def __init__(self, parent: Path, count: int) -> None:
        if not cgroups.available():
            raise RuntimeError("needs root and a cgroup v1 cpuacct hierarchy at /sys/fs/cgroup")
        run_id = secrets.token_hex(3)
        self.root = parent / f"ctb-{run_id}"
        """The run's folder: stand-ins and the test fleet's folder."""
        self.group = CpuGroup(cgroups.CPUACCT / f"ctbench-{run_id}").create()
        """Parent CPU group of the run."""
        self.standin_group = CpuGroup(self.group.path / "standins").create()
        """CPU group every stand-in call moves itself into."""
        self.count = count
        """Hosts in the fleet."""
        self.fleet: Fleet | None = None
        """The running test fleet."""
        self.groups: list[CpuGroup] = []
        """Per host CPU group, in address order."""
        self.addresses: list[str] = []
        """One address per host, in order (also its name for every client)."""
        self.client: ClientFiles | None = None
        """Client files for the whole fleet, once started."""

    def start(self) -> ClientFiles:
        """Stand-ins, every sshd started and greeting, client files; stops all on failure."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _plan(self, index: int, stand: standins.StandIns) -> HostPlan:
        group = CpuGroup(self.group.path / f"h{index:04d}").create()
        self.groups.append(group)
        env = {
            "PATH": stand.path,
            "CTB_DATA": str(stand.data_dir),
            "CTB_STANDIN_CG": str(self.standin_group.procs_file),
        }
        return HostPlan(
            f"h{index:04d}",
            docker="absent",
            nvidia_smi=False,
            allow_tcp_forwarding=False,
            extra_env=env,
            sshd_options=SSHD_OPTIONS,
            sshd_launcher=("sh", "-c", JOIN_GROUP, str(group.procs_file)),
        )

    def _start(self) -> ClientFiles:
        self.root.mkdir(parents=True)
        self.root.chmod(0o755)
        stand = standins.install(self.root / "standins")
        plans = [self._plan(i, stand) for i in range(self.count)]
        port = loopback.free_port("127.0.0.1")  # free on every 127.* address bound one by one
        fleet = self.fleet = Fleet.start(plans, jump=False, parent=self.root, port=port)
        hosts = list(fleet)
        self.addresses = [h.address for h in hosts]
        self.client = self.client_files(len(hosts))
        return self.client

    def client_files(self, count: int) -> ClientFiles:
        """Client files naming only the first `count` hosts."""
        assert self.fleet is not None
        hosts = list(self.fleet)[:count]
        keys = {h.address: h.sshd.public_host_key() for h in hosts}
        folder = self.root / f"client-{count}"
        return write_client_files(folder, hosts[0].port, keys, self.fleet.client_key)

    def host_usage_ns(self) -> list[int]:
        """CPU ns charged so far to each host's sessions (stand-ins excluded), in host order."""
        return [group.usage_ns() for group in self.groups]

    def standin_usage_ns(self) -> int:
        """CPU ns charged so far to all stand-in calls."""
        return self.standin_group.usage_ns()

    def kill_sessions(self) -> None:
        """End every session process (not the listeners): a clean slate between tools."""
        listeners = set()
        if self.fleet is not None:
            listeners = {h.sshd.process.pid for h in self.fleet if h.sshd.process is not None}
        for group in [*self.groups, self.standin_group]:
            for pid in group.pids():
                if pid not in listeners:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        """Stop every sshd and session, remove the CPU groups and the folder."""
        try:
            if self.fleet is not None:
                self.fleet.stop()
        finally:
            self.kill_sessions()
            self.group.remove()
            shutil.rmtree(self.root, ignore_errors=True)
