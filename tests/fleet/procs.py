"""Starting, finding and ending the daemons a fleet owns, by pid, cgroup and path."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

PROC = Path("/proc")


def spawn(
    argv: Sequence[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a daemon in its own session, stdout and stderr appended to `log_path`."""
    with log_path.open("ab") as log:
        # Own session: a Ctrl-C in the test terminal must not reach the daemons mid-teardown.
        return subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def log_tail(log_path: Path, lines: int = 15) -> str:
    """The last lines of a daemon log, for error messages."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` s; always reaps the child."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(5)


def _read(path: Path) -> str:
    """A /proc file as text: other users' process names need not be UTF-8 (bytes replaced)."""
    return path.read_bytes().decode(errors="replace")


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = _read(PROC / str(pid) / "stat")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _all_pids() -> list[int]:
    return [int(p.name) for p in PROC.iterdir() if p.name.isdigit()]


def _words(pid: int, name: str) -> list[str]:
    """NUL-separated words of /proc/<pid>/<name> (cmdline, environ)."""
    try:
        raw = (PROC / str(pid) / name).read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")


def _ppid(pid: int) -> int:
    try:
        stat = _read(PROC / str(pid) / "stat")
    except OSError:
        return -1
    return int(stat.rsplit(")", 1)[-1].split()[1])


def pids_mentioning(root: Path) -> list[int]:
    """Live processes (not this one) naming `root` or a path below it in argv or environment.

    The environment catches what a fleet session left behind (`nohup cmd &`): every session
    inherits CT_FAKE_GPU, a path below the fleet's folder.
    """
    prefix = str(root).rstrip("/")

    def mentions(word: str) -> bool:
        return word == prefix or prefix + "/" in word or word.endswith("=" + prefix)

    found = []
    for pid in _all_pids():
        if pid == os.getpid():
            continue
        words = _words(pid, "cmdline") + _words(pid, "environ")
        if any(mentions(w) for w in words) and alive(pid):
            found.append(pid)
    return found


def pids_in_cgroups(container_ids: Iterable[str]) -> list[int]:
    """Live processes whose cgroup path names one of the given full container ids."""
    ids = [c for c in container_ids if c]
    if not ids:
        return []
    found = []
    for pid in _all_pids():
        try:
            cgroup = _read(PROC / str(pid) / "cgroup")
        except OSError:
            continue
        if any(cid in cgroup for cid in ids) and alive(pid):
            found.append(pid)
    return found


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` in the parent tree, nearest first."""
    children: dict[int, list[int]] = {}
    for other in _all_pids():
        children.setdefault(_ppid(other), []).append(other)
    found: list[int] = []
    queue = list(children.get(pid, []))
    while queue:
        current = queue.pop(0)
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def kill_pids(pids: Iterable[int], timeout: float = 5.0) -> list[int]:
    """SIGKILL each pid and wait until they are gone; returns those still alive at the end."""
    targets = [p for p in pids if p != os.getpid()]
    for pid in targets:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    left = [p for p in targets if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = [p for p in left if alive(p)]
    return left


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root`, deepest first."""
    prefix = str(root).rstrip("/")
    found = []
    for line in _read(PROC / "self" / "mountinfo").splitlines():
        # Field 5 is the mount point, with spaces and such escaped as octal.
        point = line.split()[4].encode().decode("unicode_escape")
        if point == prefix or point.startswith(prefix + "/"):
            found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_under(root: Path) -> None:
    """Lazily unmount whatever a killed dockerd left mounted below `root`."""
    for point in mounts_under(root):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
