"""One real Docker engine (dockerd + its own containerd) living entirely under one folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.fleet import procs
from tests.fleet.image import IMAGE, rootfs_tar

DOCKERD = "dockerd"
START_TIMEOUT = 30.0
_CLIENT_ENV_DROP = ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_HOST")


def docker_cli() -> str | None:
    """Path of the docker client, or None when it is not installed."""
    return shutil.which("docker")


def _ping(socket_path: Path) -> bool:
    """True when the engine answers `GET /_ping` on its socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(str(socket_path))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = sock.recv(4096)
    except OSError:
        return False
    return reply.startswith(b"HTTP/1.") and b" 200 " in reply.split(b"\r\n", 1)[0]


class DockerEngine:
    """A dockerd with its own data, exec root, socket and containerd, all below `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        """Folder holding everything the engine writes; keep it short (socket path limit)."""
        self.process: subprocess.Popen[bytes] | None = None
        """The running dockerd, or None while stopped."""
        self._image_ready = False

    @classmethod
    def start(cls, root: Path, timeout: float = START_TIMEOUT) -> DockerEngine:
        """Start an engine under `root` and wait (at most `timeout` s) until it answers."""
        engine = cls(root)
        engine.launch(timeout)
        return engine

    @property
    def socket_path(self) -> Path:
        """The engine's unix socket (root-only: group root, mode 0660)."""
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        """The DOCKER_HOST url of this engine."""
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        """dockerd's (and its containerd's) log."""
        return self.root / "dockerd.log"

    @property
    def namespace(self) -> str:
        """containerd namespace, unique per engine in case a system containerd is shared."""
        return "ctf-" + hashlib.sha256(str(self.root).encode()).hexdigest()[:12]

    @property
    def running(self) -> bool:
        """True while dockerd is alive."""
        return self.process is not None and self.process.poll() is None

    def _argv(self) -> list[str]:
        return [
            DOCKERD,
            f"--host={self.host}",
            f"--data-root={self.root / 'data'}",
            f"--exec-root={self.root / 'exec'}",
            f"--pidfile={self.root / 'docker.pid'}",
            f"--config-file={self.root / 'daemon.json'}",
            "--bridge=none",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            "--group=root",
            # Containers run busybox as PID 1, which ignores SIGTERM: keep daemon stops short.
            "--shutdown-timeout=1",
            f"--containerd-namespace={self.namespace}",
            f"--containerd-plugins-namespace={self.namespace}-plugins",
        ]

    def launch(self, timeout: float = START_TIMEOUT) -> None:
        """Start dockerd for this folder and wait (bounded) until it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        # An own, empty config keeps the machine's /etc/docker/daemon.json out.
        (self.root / "daemon.json").write_text("{}\n")
        self.process = procs.spawn(self._argv(), self.log_path)
        deadline = time.monotonic() + timeout
        while not _ping(self.socket_path):
            if self.process.poll() is not None:
                status = self.process.returncode
                raise RuntimeError(
                    f"dockerd exited with {status}:\n{procs.log_tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"dockerd not answering after {timeout} s:\n{procs.log_tail(self.log_path)}"
                )
            time.sleep(0.05)
        # dockerd makes the socket root:root 0660 with --group=root; no group member may use it.
        os.chmod(self.socket_path, 0o660)

    def client_env(self) -> dict[str, str]:
        """Environment for the docker client: this engine, a private client config."""
        env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV_DROP}
        env["DOCKER_HOST"] = self.host
        env["DOCKER_CONFIG"] = str(self.root / "client")
        return env

    def cli(
        self, *args: str, check: bool = True, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against this engine."""
        cli = docker_cli() or "docker"
        result = subprocess.run(
            [cli, *args],
            capture_output=True,
            text=True,
            env=self.client_env(),
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}"
            )
        return result

    def ensure_image(self) -> str:
        """Import the busybox image once; returns its name."""
        if (
            not self._image_ready
            and self.cli("image", "inspect", IMAGE, check=False).returncode != 0
        ):
            cli = docker_cli() or "docker"
            result = subprocess.run(
                [cli, "import", "-", IMAGE],
                input=rootfs_tar(),
                capture_output=True,
                env=self.client_env(),
                timeout=120,
                check=False,
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"docker import failed: {result.stderr.decode(errors='replace')}"
                )
        self._image_ready = True
        return IMAGE

    def run_container(
        self,
        name: str,
        *cmd: str,
        labels: Mapping[str, str] | None = None,
        detach: bool = True,
        extra_args: Sequence[str] = (),
    ) -> str:
        """Run `cmd` (default: a long sleep) in a new container `name`; returns its full id.

        With detach=False it waits for the command to end; the container stays for inspection.
        """
        image = self.ensure_image()
        # busybox as PID 1 ignores SIGTERM: a short stop timeout keeps stops and restarts fast.
        argv = ["run", "--network", "none", "--stop-timeout", "1", "--name", name]
        if detach:
            argv.append("--detach")
        for key, value in (labels or {}).items():
            argv += ["--label", f"{key}={value}"]
        argv += [*extra_args, image, *(cmd or ("sleep", "1000000"))]
        # In the foreground docker run exits with the command's status: not a failure to run.
        run = self.cli(*argv, check=detach)
        found = self.cli("inspect", "--format", "{{.Id}}", name, check=False)
        if found.returncode != 0:
            raise RuntimeError(f"docker run {name} failed: {run.stderr.strip()}")
        return found.stdout.strip()

    def container_pid(self, name_or_id: str) -> int:
        """Host PID of the container's main process (0 when it is not running)."""
        return int(self.cli("inspect", "--format", "{{.State.Pid}}", name_or_id).stdout.strip())

    def container_ids(self) -> list[str]:
        """Full ids of every container, running or not."""
        out = self.cli("ps", "--all", "--quiet", "--no-trunc", check=self.running).stdout
        return out.split()

    def remove_all_containers(self) -> None:
        """Force-remove every container of this engine (SIGKILL, no grace period)."""
        ids = self.container_ids() if self.running else []
        if ids:
            self.cli("rm", "--force", "--volumes", *ids)

    def stop(self) -> None:
        """Stop dockerd and its containerd; kill any process of theirs that outlives them."""
        ids = self.container_ids() if self.running else []
        if self.process is not None:
            procs.stop_process(self.process, timeout=20)
            self.process = None
        # Shims and container processes are not dockerd's children once it dies: find them.
        procs.kill_pids(procs.pids_mentioning(self.root))
        procs.kill_pids(procs.pids_in_cgroups(ids))
        procs.unmount_under(self.root)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop and start dockerd on the same folders (containers stop, as on a real restart)."""
        self.stop()
        self.launch(timeout)
