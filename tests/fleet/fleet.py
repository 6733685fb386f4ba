"""A loopback fleet: N simulated hosts, a jump host, client files, and a clean stop."""

from __future__ import annotations

import atexit
import socket
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from tests.fleet import hostbin, janitor, loopback
from tests.fleet.dockerd import DockerEngine
from tests.fleet.simhost import FleetFiles, HostPlan, SimHost
from tests.fleet.sshconfig import HostEntry, known_hosts_line, render_ssh_config, write_atomic
from tests.fleet.sshd import LOGIN_USER, ensure_login_user, generate_key

FLEET_PREFIX = "ctf-"
JUMP = "jump"
REFUSED = "refused"
"""ssh_config alias of a loopback port nothing listens on (connection refused)."""
SILENT = "silent"
"""ssh_config alias of a port that accepts TCP but never sends an SSH banner."""


def default_plans(count: int = 3) -> list[HostPlan]:
    """h1..hN, each with its own engine and the default GPU spec for its name."""
    return [HostPlan(f"h{i}") for i in range(1, count + 1)]


class Fleet:
    """Simulated hosts on 127.A.B.x, reachable with `ssh -F fleet.ssh_config <name>`."""

    def __init__(self, root: Path, base: str) -> None:
        self.root = root
        """The fleet's folder (short, below /tmp: unix socket paths are limited to 108 bytes)."""
        self.base = base
        """The "127.A.B" prefix of every address of this fleet."""
        self.files = FleetFiles(root)
        """Client and shared files."""
        self.hosts: dict[str, SimHost] = {}
        """Simulated hosts by name (the jump host not included)."""
        self.jump: SimHost | None = None
        """The ProxyJump hop (no Docker, no GPUs), if started."""
        self.refused_port = 0
        """Port of the REFUSED alias."""
        self.shared_port: int | None = None
        """The one port of every host, if the fleet was started with one."""
        self._silent: socket.socket | None = None
        self._trusted: dict[str, str] = {}
        self._next_octet = 1
        self._stopped = False

    @classmethod
    def start(
        cls,
        plans: Sequence[HostPlan] | None = None,
        *,
        jump: bool = True,
        parent: Path = Path("/tmp"),
        port: int | None = None,
    ) -> Fleet:
        """Start hosts (engines in parallel), a jump host, client files; on failure stop all.

        `port`: every host listens on this one port (on its own address), so that one
        `Host 127.*` block reaches them all; None: each host gets a free port of its own.
        """
        janitor.reap_stale(parent, FLEET_PREFIX)
        fleet = cls(Path(tempfile.mkdtemp(prefix=FLEET_PREFIX, dir=parent)), loopback.random_base())
        fleet.shared_port = port
        atexit.register(fleet.stop)
        try:
            fleet._setup(list(plans) if plans is not None else default_plans(), jump)
        except BaseException:
            fleet.stop()
            raise
        return fleet

    def _setup(self, plans: list[HostPlan], jump: bool) -> None:
        self.root.chmod(0o755)  # ctuser's sshd child must read authorized_keys in here
        janitor.claim(self.root)
        generate_key(self.files.client_key, "fleet-client")
        generate_key(self.files.wrong_key, "fleet-wrong")
        pub = self.files.client_key.with_name(self.files.client_key.name + ".pub").read_text()
        write_atomic(self.files.authorized_keys, pub)
        ensure_login_user(LOGIN_USER)
        hostbin.build_sysbin_without(self.files.sysbin)
        hostbin.build_sysbin_without(self.files.sysbin_nodocker, (*hostbin.SIMULATED, "docker"))
        new_hosts = [self._new_host(plan) for plan in plans]
        if jump:
            new_hosts.append(
                self._new_host(HostPlan(JUMP, docker="absent", nvidia_smi=False), reserved_ok=True)
            )
        for host in new_hosts:
            self._register(host)  # before starting: a failed start must still be stopped
        with ThreadPoolExecutor(max_workers=max(len(new_hosts), 1)) as pool:
            list(pool.map(self._bring_up, new_hosts))
        self.refused_port = loopback.free_port(self.address(250))
        self._silent = loopback.silent_listener(self.address(251))
        self.write_client_files()

    def address(self, octet: int) -> str:
        """The fleet's loopback address ending in `octet`."""
        return f"{self.base}.{octet}"

    def _new_host(self, plan: HostPlan, reserved_ok: bool = False) -> SimHost:
        taken = plan.name in self.hosts or (
            plan.name in (JUMP, REFUSED, SILENT) and not reserved_ok
        )
        if taken or "-" in plan.name:
            # "-" is kept for the derived aliases (h1-via-jump, h1-ctuser, ...).
            raise ValueError(f"host name {plan.name!r} is taken or contains '-'")
        if self._next_octet >= 250:  # .250 and .251 are the REFUSED and SILENT aliases
            raise ValueError("a fleet holds at most 249 hosts (one /24 of loopback addresses)")
        address = self.address(self._next_octet)
        self._next_octet += 1
        port = self.shared_port or loopback.free_port(address)
        host = SimHost(plan, self.root / plan.name, address, port, self.files)
        host.prepare()
        return host

    @staticmethod
    def _bring_up(host: SimHost) -> None:
        if host.plan.docker == "engine":
            host.docker = DockerEngine(host.engine_root)
            host.docker.launch()
            host.docker.ensure_image()
        host.start_sshd()

    def _register(self, host: SimHost) -> None:
        if host.name == JUMP:
            self.jump = host
        else:
            self.hosts[host.name] = host
        self._trusted[host.name] = known_hosts_line(
            host.address, host.port, host.sshd.public_host_key()
        )

    def __getitem__(self, name: str) -> SimHost:
        if name == JUMP and self.jump is not None:
            return self.jump
        return self.hosts[name]

    def __iter__(self) -> Iterator[SimHost]:
        return iter(self.hosts.values())

    def all_hosts(self) -> list[SimHost]:
        """Every host including the jump host."""
        return [*self.hosts.values(), *([self.jump] if self.jump else [])]

    @property
    def ssh_config(self) -> Path:
        """The client config (`ssh -F` / asyncssh `config=[...]`)."""
        return self.files.ssh_config

    @property
    def known_hosts(self) -> Path:
        """The client known_hosts."""
        return self.files.known_hosts

    @property
    def client_key(self) -> Path:
        """The authorized client private key."""
        return self.files.client_key

    @property
    def wrong_key(self) -> Path:
        """A client private key authorized nowhere."""
        return self.files.wrong_key

    def _entries(self) -> list[HostEntry]:
        entries = [HostEntry(h.name, h.address, h.port) for h in self.all_hosts()]
        first = next(iter(self.hosts.values()), None)
        if first is not None:
            entries.append(
                HostEntry(f"{first.name}-{LOGIN_USER}", first.address, first.port, user=LOGIN_USER)
            )
            entries.append(
                HostEntry(
                    f"{first.name}-wrongkey", first.address, first.port, identity=self.wrong_key
                )
            )
            if self.jump is not None:
                hop = (("ProxyJump", JUMP),)
                entries.append(
                    HostEntry(f"{first.name}-via-jump", first.address, first.port, extra=hop)
                )
        if self.refused_port:
            entries.append(HostEntry(REFUSED, self.address(250), self.refused_port))
        if self._silent is not None:
            entries.append(HostEntry(SILENT, self.address(251), int(self._silent.getsockname()[1])))
        return entries

    def write_client_files(self) -> None:
        """(Re)write ssh_config and known_hosts (only keys trusted so far)."""
        config = render_ssh_config(self._entries(), self.client_key, self.known_hosts)
        write_atomic(self.files.ssh_config, config)
        write_atomic(
            self.files.known_hosts, "".join(line + "\n" for line in self._trusted.values())
        )

    def trust_host_key(self, name: str) -> None:
        """Accept a host's current key (after regenerate_host_key) into known_hosts."""
        host = self[name]
        self._trusted[name] = known_hosts_line(host.address, host.port, host.sshd.public_host_key())
        self.write_client_files()

    def add_host(self, plan: HostPlan) -> SimHost:
        """Start one more host while the fleet runs (e.g. a throwaway one for destructive tests)."""
        host = self._new_host(plan)
        self._register(host)
        try:
            self._bring_up(host)
        except BaseException:
            self.remove_host(host.name)
            raise
        self.write_client_files()
        return host

    def remove_host(self, name: str) -> None:
        """Stop a host and forget it (its alias leaves the ssh_config)."""
        host = self.hosts.pop(name)
        self._trusted.pop(name, None)
        error = _stop_host(host)
        self.write_client_files()
        janitor.remove_root(host.root)
        if error:
            raise RuntimeError(error)

    def reset(self) -> None:
        """Undo what a test may have changed: specs, containers, stopped sshds, changed keys."""
        for host in self.all_hosts():
            host.reset_gpu_spec()
            if host.docker is not None:
                if not host.docker.running:
                    host.docker.restart()
                host.docker.remove_all_containers()
            if not host.sshd_running:
                host.start_sshd()
            self.trust_host_key(host.name)

    def stop(self) -> None:
        """Stop every sshd and dockerd of the fleet and delete its folder; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._silent is not None:
            self._silent.close()
        hosts = self.all_hosts()
        with ThreadPoolExecutor(max_workers=max(len(hosts), 1)) as pool:
            errors = [e for e in pool.map(_stop_host, hosts) if e]
        survivors = janitor.remove_root(self.root)
        atexit.unregister(self.stop)
        if survivors:
            errors.append(f"processes survived SIGKILL: {survivors}")
        if errors:
            raise RuntimeError("fleet stop: " + "; ".join(errors))

    def __enter__(self) -> Fleet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_host(host: SimHost) -> str | None:
    """Stop a host's sshd (and sessions) and its engine; the first failure, as text, or None."""
    error = None
    steps = [host.stop_sshd]
    if host.docker is not None:
        # Removing containers first (SIGKILL) beats dockerd's graceful stop of each one.
        steps += [host.docker.remove_all_containers, host.docker.stop]
    for step in steps:
        try:
            step()
        except Exception as exc:  # noqa: BLE001 - keep stopping the rest; Fleet.stop reports it
            error = error or f"{host.name}: {exc}"
    return error
