"""One simulated host: an sshd on its own loopback address, its engine, its GPU spec."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tests.fleet import hostbin
from tests.fleet.dockerd import DockerEngine
from tests.fleet.gpu_specs import default_spec
from tests.fleet.sshconfig import write_atomic
from tests.fleet.sshd import SshServer

DockerMode = Literal["engine", "absent", "none-running"]
"""engine: own dockerd; absent: no docker client on PATH; none-running: client, no daemon."""


@dataclass(frozen=True)
class HostPlan:
    """What a simulated host should have."""

    name: str
    """Alias in the ssh_config and value of CT_HOST."""
    docker: DockerMode = "engine"
    """How Docker looks on this host."""
    gpu_spec: Mapping[str, Any] | None = None
    """Initial stand-in nvidia-smi spec; None: gpu_specs.default_spec(name)."""
    nvidia_smi: bool = True
    """False: no nvidia-smi at all on this host (command not found)."""
    allow_tcp_forwarding: bool = True
    """Whether this host can be a ProxyJump hop."""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    """More SetEnv variables for every session (PATH here replaces the host's own)."""
    sshd_options: tuple[str, ...] = ()
    """More sshd_config lines (the benchmark raises MaxStartups and MaxSessions)."""
    sshd_launcher: tuple[str, ...] = ()
    """argv prefix that execs sshd (the benchmark's joins a CPU accounting group first)."""


class SimHost:
    """A running simulated host, reachable as `ssh -F <fleet ssh_config> <name>`."""

    def __init__(
        self, plan: HostPlan, root: Path, address: str, port: int, fleet_files: FleetFiles
    ) -> None:
        self.plan = plan
        """How it was asked for."""
        self.name = plan.name
        """Alias in the fleet's ssh_config."""
        self.address = address
        """Its own loopback address."""
        self.port = port
        """Its sshd port."""
        self.root = root
        """Its folder: keys, config, logs, bin, home, GPU spec, engine."""
        self.docker: DockerEngine | None = None
        """Its engine (set by the fleet once started), None unless docker == "engine"."""
        self.files = fleet_files
        """The fleet's shared client files."""
        self.bin_dir = root / "bin"
        """First folder on its PATH (holds the nvidia-smi stand-in)."""
        self.gpu_spec_path = root / "gpu.json"
        """The stand-in's spec file (CT_FAKE_GPU), re-read on every nvidia-smi call."""
        self.sshd = SshServer(
            root,
            address,
            port,
            authorized_keys=fleet_files.authorized_keys,
            root_env={**self.env, "HOME": str(self.home)},
            user_env=self.env,
            allow_tcp_forwarding=plan.allow_tcp_forwarding,
            options=plan.sshd_options,
            launcher=plan.sshd_launcher,
        )
        """Its OpenSSH server."""

    @property
    def home(self) -> Path:
        """HOME of root sessions: per host, so the machine's own dotfiles stay out."""
        return self.root / "home"

    @property
    def engine_root(self) -> Path:
        """Where its engine lives (and where DOCKER_HOST points, even with no engine)."""
        return self.root / "d"

    @property
    def env(self) -> dict[str, str]:
        """Environment every session gets through sshd's SetEnv."""
        nodocker = self.plan.docker == "absent"
        # An explicit PATH: the host's own bin, then links to this machine's commands minus
        # the ones the fleet simulates (never the tester's PATH, never a stray nvidia-smi).
        path = f"{self.bin_dir}:{self.files.sysbin_nodocker if nodocker else self.files.sysbin}"
        env = {"PATH": path, "CT_HOST": self.name, "CT_FAKE_GPU": str(self.gpu_spec_path)}
        if not nodocker:
            env["DOCKER_HOST"] = f"unix://{self.engine_root / 'docker.sock'}"
        return {**env, **self.plan.extra_env}

    def prepare(self) -> None:
        """Create its folders, nvidia-smi, spec file and sshd config (nothing started)."""
        for folder in (self.root, self.bin_dir, self.home):
            folder.mkdir(parents=True, exist_ok=True)
            folder.chmod(0o755)
        if self.plan.nvidia_smi:
            hostbin.install_nvidia_smi(self.bin_dir)
        self.reset_gpu_spec()
        self.sshd.prepare()

    def default_gpu_spec(self) -> dict[str, Any]:
        """The spec this host started with."""
        if self.plan.gpu_spec is None:
            return default_spec(self.name)
        spec: dict[str, Any] = json.loads(json.dumps(self.plan.gpu_spec))  # a deep copy
        return spec

    def set_gpu_spec(self, spec: Mapping[str, Any]) -> None:
        """Replace the stand-in's spec atomically; the next nvidia-smi call uses it."""
        write_atomic(self.gpu_spec_path, json.dumps(spec, indent=1) + "\n")

    def gpu_spec(self) -> dict[str, Any]:
        """The spec now in force."""
        spec: dict[str, Any] = json.loads(self.gpu_spec_path.read_text())
        return spec

    def reset_gpu_spec(self) -> None:
        """Back to the starting spec."""
        self.set_gpu_spec(self.default_gpu_spec())

    @property
    def sshd_running(self) -> bool:
        """True while its sshd listens."""
        return self.sshd.running

    def stop_sshd(self) -> None:
        """The host goes away: sshd stops and its open sessions die (its engine keeps running)."""
        self.sshd.stop()

    def start_sshd(self) -> None:
        """The host comes back: same address, port and host key."""
        self.sshd.start()

    def regenerate_host_key(self) -> None:
        """Give it a new host key (restarting sshd if it runs); known_hosts keeps the old one."""
        self.sshd.regenerate_host_key()

    def ssh_argv(
        self,
        command: str,
        *,
        alias: str | None = None,
        user: str | None = None,
        options: Sequence[str] = (),
    ) -> list[str]:
        """The real OpenSSH client's argv to run `command` (a remote shell line) here."""
        argv = ["ssh", "-F", str(self.files.ssh_config)]
        # ssh keeps the first value it sees for an option: the caller's go before our defaults.
        for option in [*options, "BatchMode=yes", "ConnectTimeout=10"]:
            argv += ["-o", option]
        if user is not None:
            argv += ["-l", user]
        return [*argv, alias or self.name, "--", command]

    def ssh(
        self,
        command: str,
        *,
        alias: str | None = None,
        user: str | None = None,
        options: Sequence[str] = (),
        timeout: float = 30.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run `command` here with the real OpenSSH client and the fleet's config."""
        argv = self.ssh_argv(command, alias=alias, user=user, options=options)
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class FleetFiles:
    """Files every host and client of one fleet share."""

    root: Path
    """The fleet's folder."""

    @property
    def ssh_config(self) -> Path:
        """Client config: one Host block per host, plus aliases."""
        return self.root / "ssh_config"

    @property
    def known_hosts(self) -> Path:
        """Trusted host keys, `[address]:port` form."""
        return self.root / "known_hosts"

    @property
    def client_key(self) -> Path:
        """Private key authorized on every host, for root and ctuser."""
        return self.root / "id_client"

    @property
    def wrong_key(self) -> Path:
        """Private key authorized nowhere."""
        return self.root / "id_wrong"

    @property
    def authorized_keys(self) -> Path:
        """AuthorizedKeysFile of every sshd (world-readable: ctuser's sshd child reads it)."""
        return self.root / "authorized_keys"

    @property
    def sysbin(self) -> Path:
        """Symlinks to every system command but the simulated ones (hostbin.SIMULATED)."""
        return self.root / "sysbin"

    @property
    def sysbin_nodocker(self) -> Path:
        """The same without docker*, for hosts without Docker."""
        return self.root / "sysbin-nodocker"
