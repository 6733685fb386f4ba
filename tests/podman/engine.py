"""Real podman (rootful, runc, cgroupfs, no systemd) confined to a test folder (RECIPES.md)."""

from __future__ import annotations

import contextlib
import os
import pwd
import resource
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.fleet.procs import descendants, kill_pids, pids_in_cgroups, pids_mentioning

IMAGE = "localhost/ctbb:latest"
KEEP_ALIVE = 'trap "exit 0" TERM; sleep 300 & wait'
"""PID 1 that stops at once on SIGTERM (a bare sleep ignores it: stop would take 10 s)."""


def missing_programs() -> list[str]:
    """What podman needs here and is missing."""
    return [p for p in ("podman", "conmon", "runc", "busybox") if shutil.which(p) is None]


class Podman:
    """podman with its own containers.conf and storage under `root`; rootless as `user`."""

    def __init__(self, root: Path, user: str | None = None) -> None:
        self.root = root
        self.user = user
        self._ids: list[str] = []

    @property
    def env(self) -> dict[str, str]:
        """Environment that points podman (and clustertop's podman ps) at our storage."""
        env = {
            **os.environ,
            "CONTAINERS_CONF": str(self.root / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(self.root / "storage.conf"),
        }
        if self.user is not None:
            env = {
                k: v for k, v in env.items() if k.startswith("CONTAINERS_") or k in ("PATH", "LANG")
            }
            env.update(HOME=str(self.root / "home"), XDG_RUNTIME_DIR=str(self.root / "xdg"))
        return env

    def _argv(self, *args: str) -> list[str]:
        if self.user is None:
            return ["podman", *args]
        entry = pwd.getpwnam(self.user)
        drop = [f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]
        return ["setpriv", *drop, "podman", *args]

    def _prepare_rootless(self) -> None:
        # Rootless: vfs storage (no fuse-overlayfs), folders owned by the user, the test root
        # walkable by it. Without newuidmap podman maps the user's own uid alone.
        self.root.chmod(0o755)
        entry = pwd.getpwnam(self.user or "")
        for name in ("home", "xdg", "graph", "run", "tmp", "net"):
            folder = self.root / name
            folder.mkdir()
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        (self.root / "xdg").chmod(0o700)

    def setup(self) -> None:
        """Write the configuration and import a busybox image (no registry needed)."""
        hard_nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        pid_max = Path("/proc/sys/kernel/pid_max").read_text().strip()
        r = self.root
        (r / "containers.conf").write_text(
            "[containers]\n"
            'netns = "none"\n'
            f'default_ulimits = ["nofile={hard_nofile}:{hard_nofile}", '
            f'"nproc={pid_max}:{pid_max}"]\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{r}/tmp/events.log"\nruntime = "runc"\n'
            f'tmp_dir = "{r}/tmp"\n'
            "[network]\n"
            f'network_config_dir = "{r}/net"\n'
        )
        driver = "vfs" if self.user is not None else "overlay"
        (r / "storage.conf").write_text(
            f'[storage]\ndriver = "{driver}"\ngraphroot = "{r}/graph"\nrunroot = "{r}/run"\n'
        )
        if self.user is not None:
            self._prepare_rootless()
        rootfs = r / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        busybox = shutil.which("busybox")
        assert busybox is not None
        shutil.copy(busybox, rootfs / "bin" / "busybox")
        for tool in ("sh", "sleep"):
            (rootfs / "bin" / tool).symlink_to("busybox")
        for path in (rootfs, *rootfs.rglob("*"), r / "containers.conf", r / "storage.conf"):
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() or path.name == "busybox" else 0o644)
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        self.cli("import", "-", IMAGE, stdin=tar.stdout)
        tar.wait(30)

    def cli(self, *args: str, stdin: object = None, timeout: float = 60) -> str:
        """Run podman; fails the test with its stderr on a non-zero exit."""
        done = subprocess.run(
            self._argv(*args), env=self.env, stdin=stdin, capture_output=True,  # type: ignore[arg-type]
            timeout=timeout, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout.decode(errors="replace").strip()

    def run(self, name: str, *args: str, command: str = KEEP_ALIVE) -> tuple[str, int]:
        """Start a detached container; returns (id, host pid of its PID 1)."""
        cid = self.cli("run", "-d", "--name", name, *args, IMAGE, "sh", "-c", command)
        self._ids.append(cid)
        pid = int(self.cli("inspect", "--format", "{{.State.Pid}}", cid))
        return cid, pid

    @contextlib.contextmanager
    def on_path(self, bin_dir: Path) -> Iterator[Path]:
        """A `podman` in `bin_dir` (a simulated host's own bin, first on its PATH) that uses our
        storage: what the probe and the actions run there. Removed afterwards."""
        assert self.user is None, "rootful only"
        wrapper = bin_dir / "podman"
        real = shutil.which("podman")
        assert real is not None
        wrapper.write_text(
            "#!/bin/sh\n"
            f"CONTAINERS_CONF={shlex.quote(str(self.root / 'containers.conf'))}\n"
            f"CONTAINERS_STORAGE_CONF={shlex.quote(str(self.root / 'storage.conf'))}\n"
            "export CONTAINERS_CONF CONTAINERS_STORAGE_CONF\n"
            f'exec {shlex.quote(real)} "$@"\n'
        )
        wrapper.chmod(0o755)
        try:
            yield wrapper
        finally:
            wrapper.unlink(missing_ok=True)

    def state(self, cid: str) -> str | None:
        """The container's state (running, exited...), None when it is gone."""
        done = subprocess.run(
            self._argv("inspect", "--format", "{{.State.Status}}", cid), env=self.env,
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        return done.stdout.decode().strip() if done.returncode == 0 else None

    def stop(self) -> None:
        """Remove our containers (by id), then kill what is left: in their cgroups, or (rootless)
        below the conmon and pause processes that name our folder."""
        for cid in self._ids:
            subprocess.run(
                self._argv("rm", "-f", "-t", "0", cid), env=self.env, capture_output=True,
                timeout=30, check=False,
            )  # fmt: skip
        ours = pids_mentioning(self.root)
        kill_pids([pid for top in ours for pid in descendants(top)] + ours)
        kill_pids(pids_in_cgroups(self._ids))
        if self.user is None:
            subprocess.run(
                ["podman", "system", "reset", "--force"], env=self.env, capture_output=True,
                timeout=60, check=False,
            )  # fmt: skip
