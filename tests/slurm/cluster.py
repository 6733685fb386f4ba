"""A real single-node Slurm (slurm-wlm + munge) in a test's folder, stopped by PID (RECIPES.md)."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from pathlib import Path

from clustertop.parsers.slurm import parse_scontrol_jobs
from clustertop.ui.screens.host import HostScreen
from tests.fleet.procs import kill_pids, log_tail, spawn, stop_process
from tests.waiting import wait_for

PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "scontrol", "sinfo", "scancel")
JOB_USER = "nobody"
"""Jobs run as this unprivileged user (every Debian system has it)."""


def missing_programs() -> list[str]:
    """The Slurm and munge programs this machine lacks (the tests skip, naming them)."""
    paths = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [p for p in PROGRAMS if shutil.which(p, path=paths) is None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _which(name: str) -> str:
    found = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert found is not None, name
    return found


class SlurmCluster:
    """slurmctld, slurmd and munged of one node named `node`, everything below `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # A node name of our own: slurm's cgroup folders (/slurm_<node>) never collide.
        self.node = "ct" + secrets.token_hex(3)
        self.conf = root / "etc" / "slurm.conf"
        self.munge_socket = root / "munge" / "munge.sock"
        self._daemons: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        """Environment for the Slurm commands (our slurm.conf, sbin on PATH)."""
        path = os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"
        return {**os.environ, "SLURM_CONF": str(self.conf), "PATH": path}

    def start(self, timeout: float = 30.0) -> None:
        """Write the configuration, start the daemons, wait until the node is idle."""
        self._write_config()
        self._start_munge()
        for daemon in ("slurmctld", "slurmd"):
            argv = [_which(daemon), "-D", "-f", str(self.conf)]
            if daemon == "slurmd":
                argv += ["-N", self.node]
            self._daemons.append(spawn(argv, self.root / f"{daemon}.out", self.env))
        try:
            wait_for(lambda: self.sinfo_state() == "idle", timeout, 0.1, "an idle Slurm node")
        except AssertionError as exc:
            logs = "\n".join(log_tail(self.root / f"{d}.out") for d in ("slurmctld", "slurmd"))
            self.stop()
            raise AssertionError(f"{exc}\n{logs}") from exc

    def sinfo_state(self) -> str:
        """The node's state as sinfo prints it."""
        out = subprocess.run(
            ["sinfo", "-h", "-N", "-o", "%T"], env=self.env, capture_output=True, text=True,
            timeout=10, check=False,
        )  # fmt: skip
        return out.stdout.strip()

    def _start_munge(self) -> None:
        folder = self.munge_socket.parent
        folder.mkdir(parents=True)
        munge = pwd.getpwnam("munge")
        key = folder / "munge.key"
        key.write_bytes(secrets.token_bytes(1024))
        key.chmod(0o400)
        for path in (folder, key):
            os.chown(path, munge.pw_uid, munge.pw_gid)
        folder.chmod(0o755)
        argv = [
            "setpriv", "--reuid=munge", "--regid=munge", "--clear-groups", _which("munged"),
            "-F", f"--socket={self.munge_socket}", f"--key-file={key}",
            f"--pid-file={folder / 'munged.pid'}", f"--log-file={folder / 'munged.log'}",
            f"--seed-file={folder / 'munged.seed'}", "--force",
        ]  # fmt: skip
        self._daemons.append(spawn(argv, self.root / "munged.out"))
        wait_for(self.munge_socket.exists, 10, 0.02, "munged's socket")

    def _write_config(self) -> None:
        etc, dev, state = self.root / "etc", self.root / "dev", self.root / "state"
        for folder in (etc, dev, state, self.root / "spool", self.root / "jobs"):
            folder.mkdir(parents=True, exist_ok=True)
        (self.root / "jobs").chmod(0o1777)
        for index in range(4):
            # Major 195 as real NVIDIA nodes: slurm's device cgroup needs a real char device.
            node = dev / f"nvidia{index}"
            os.mknod(node, 0o666 | 0o020000, os.makedev(195, index))
        r = self.root
        lines = [
            f"ClusterName=ct{self.node[2:]}", f"SlurmctldHost={socket.gethostname().split('.')[0]}(127.0.0.1)", "MpiDefault=none",
            f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
            "SlurmUser=root", "SlurmdUser=root", "AuthType=auth/munge",
            f"AuthInfo=socket={self.munge_socket}",
            f"StateSaveLocation={state}", f"SlurmdSpoolDir={r / 'spool'}",
            f"SlurmctldPidFile={r / 'slurmctld.pid'}", f"SlurmdPidFile={r / 'slurmd.pid'}",
            f"SlurmctldLogFile={r / 'slurmctld.log'}", f"SlurmdLogFile={r / 'slurmd.log'}",
            "ProctrackType=proctrack/cgroup", "TaskPlugin=task/cgroup",
            "SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
            "DefMemPerCPU=100", "GresTypes=gpu", "MailProg=/bin/true", "MinJobAge=10",
            "SlurmdParameters=config_overrides", "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs=8 RealMemory=2000 Gres=gpu:4",
            f"PartitionName=debug Nodes={self.node} Default=YES State=UP",
        ]  # fmt: skip
        self.conf.write_text("\n".join(lines) + "\n")
        (etc / "cgroup.conf").write_text(
            "CgroupPlugin=cgroup/v1\nCgroupAutomount=no\nConstrainCores=yes\n"
            "ConstrainRAMSpace=yes\nConstrainDevices=yes\n"
        )
        (etc / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={self.node} Name=gpu File={dev}/nvidia[0-3]\n"
        )

    def submit(self, *args: str, wrap: str) -> str:
        """sbatch as JOB_USER; returns the job id."""
        command = ["sbatch", "--parsable", f"--chdir={self.root / 'jobs'}", "--output=/dev/null"]
        out = subprocess.run(
            ["setpriv", f"--reuid={JOB_USER}", "--regid=nogroup", "--clear-groups",
             *command, *args, "--wrap", wrap],
            env=self.env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().split(";")[0]

    def job_pids(self, job_id: str, command: str = "sleep") -> list[int]:
        """PIDs of the job's processes running `command`, found by their freezer cgroup."""
        marker = f"/slurm_{self.node}/uid_"
        found = []
        for entry in Path("/proc").iterdir():
            try:
                cgroup = (entry / "cgroup").read_text()
                argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except (OSError, ValueError):
                continue
            in_job = marker in cgroup and f"/job_{job_id}/step_" in cgroup
            if in_job and os.path.basename(argv0).decode(errors="replace") == command:
                found.append(int(entry.name))
        return found

    def job_gpus(self, job_id: str) -> tuple[int, ...]:
        """The physical GPU indices Slurm gave the job (its GRES IDX on this node)."""
        out = subprocess.run(
            ["scontrol", "show", "job", "-d", job_id], env=self.env, capture_output=True,
            text=True, timeout=30, check=False,
        )  # fmt: skip
        job = parse_scontrol_jobs(out.stdout).get(job_id)
        return job.gpus.get(self.node, ()) if job is not None else ()

    def cancel(self, job_id: str) -> None:
        """scancel as root."""
        subprocess.run(
            ["scancel", job_id], env=self.env, capture_output=True, timeout=10, check=False
        )

    def stop(self) -> None:
        """Stop the daemons by PID, then the slurmstepds and jobs in this node's cgroups."""
        for daemon in reversed(self._daemons):
            stop_process(daemon, timeout=10)
        self._daemons.clear()
        remove_node_cgroups(self.node)


def node_pids(node: str) -> list[int]:
    """Processes in the cgroups of one Slurm node (slurmstepd daemonizes: not our children)."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if entry.name.isdigit() and f"/slurm_{node}/" in (entry / "cgroup").read_text():
                found.append(int(entry.name))
    return found


def remove_node_cgroups(node: str) -> None:
    """Kill what runs in a node's cgroups and remove its folders, deepest first."""
    kill_pids(node_pids(node))
    for top in Path("/sys/fs/cgroup").glob(f"*/slurm_{node}"):
        for folder in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if folder.is_dir():
                with contextlib.suppress(OSError):
                    folder.rmdir()
        with contextlib.suppress(OSError):
            top.rmdir()


def wait_running(
    cluster: SlurmCluster, job_id: str, timeout: float = 30.0, command: str = "sleep"
) -> list[int]:
    """Wait until the job runs `command`; returns its PIDs."""
    return wait_for(
        lambda: cluster.job_pids(job_id, command), timeout, 0.1, f"job {job_id} running {command}"
    )


def rights_known(screen: HostScreen) -> bool:
    """True once the host screen's controller has read who may scancel on its host."""
    actions = screen.actions
    return actions is not None and actions.rights is not None and actions.rights.known(screen.host)
