"""Local `--once --json` on processes placed in real kernel cgroups of each kind (cgroup v1).

Kubernetes, a login session and a Docker scope are not running here, but their cgroups are just
folders: a busy process moved into `kubepods/besteffort/pod<uid>/<id>` is, to the kernel and to
/proc/<pid>/cgroup, exactly where a pod's container process would be.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.procs import kill_pids

HIERARCHY = Path("/sys/fs/cgroup/memory")


@pytest.fixture
def placed() -> Iterator[Any]:
    """place(relative path) -> pid of a busy process in that new cgroup; all removed after."""
    if os.geteuid() != 0 or not (HIERARCHY / "cgroup.procs").exists():
        pytest.skip("needs root and the cgroup v1 memory hierarchy")
    made: list[Path] = []
    procs: list[subprocess.Popen[bytes]] = []

    def place(relative: str) -> int:
        folder = HIERARCHY / relative
        folder.mkdir(parents=True)
        made.extend(
            p for p in [folder, *folder.parents] if p not in made and HIERARCHY in p.parents
        )
        busy = subprocess.Popen(["sh", "-c", "while :; do :; done"], start_new_session=True)
        procs.append(busy)
        (folder / "cgroup.procs").write_text(str(busy.pid))
        return busy.pid

    try:
        yield place
    finally:
        kill_pids([p.pid for p in procs])
        for busy in procs:
            busy.wait(5)
        for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()


def _attribution(pid: int) -> tuple[dict[str, Any], dict[str, Any]]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    done = subprocess.run(
        [sys.executable, "-m", "clustertop", "--once", "--json", "--timeout", "5"],
        capture_output=True, text=True, timeout=60, env=base, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (host,) = json.loads(done.stdout)["hosts"]
    rows = [p for p in host["processes"] if p["pid"] == pid]
    assert rows, f"pid {pid} not listed"
    return rows[0], rows[0]["attribution"]


def test_a_pod_process_is_a_pod_not_an_unnamed_root_docker_container(placed: Any) -> None:
    pod, ctr = str(uuid.uuid4()), secrets.token_hex(32)
    pid = placed(f"kubepods/besteffort/pod{pod}/{ctr}")
    row, found = _attribution(pid)
    assert row["container"] is None
    assert (found["kind"], found["id"], found["container_id"]) == ("pod", pod, ctr)
    assert (found["name"], found["owner"], found["via"]) == (pod, pod, "pod-uid")


def test_a_systemd_driver_pod_and_a_session(placed: Any) -> None:
    pod, ctr = str(uuid.uuid4()), secrets.token_hex(32)
    slice_ = f"kubepods-burstable-pod{pod.replace('-', '_')}.slice"
    in_pod = placed(f"kubepods.slice/kubepods-burstable.slice/{slice_}/cri-containerd-{ctr}.scope")
    session = placed(f"user.slice/user-4242.slice/session-c{secrets.randbelow(10**6)}.scope")
    assert _attribution(in_pod)[1]["id"] == pod
    _, found = _attribution(session)
    assert (found["kind"], found["uid"], found["owner"], found["via"]) == (
        "session", 4242, "root", "unix-user")  # fmt: skip


def test_a_docker_scope_unknown_to_docker_stays_docker(placed: Any) -> None:
    ctr = secrets.token_hex(32)
    pid = placed(f"system.slice/docker-{ctr}.scope")
    row, found = _attribution(pid)
    assert (found["kind"], found["id"], found["via"]) == ("docker", ctr, "unix-user")
    assert row["container"] == {"id": ctr, "name": ""}
