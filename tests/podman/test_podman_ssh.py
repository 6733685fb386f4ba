"""A podman container's process over SSH: kind and id from its cgroup (names are local only)."""

from __future__ import annotations

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.podman.engine import Podman
from tests.ssh.helpers import run_once

BUSY = 'trap "exit 0" TERM; while :; do :; done'


def test_a_podman_gpu_process_over_ssh(clean_fleet: Fleet, podman: Podman) -> None:
    cid, pid = podman.run("alice-ssh", "--label", "owner=carol", command=BUSY)
    try:
        h1 = clean_fleet["h1"]
        h1.set_gpu_spec(
            spec([gpu("h1", 0, H200)], [{"gpu": 0, "pid": pid, "used_memory_mib": 500}])
        )
        result = run_once(clean_fleet, "h1")
        assert result.returncode == 0, result.stderr
        (proc,) = result.host("h1")["gpu_processes"]
        found = proc["attribution"]
        # Not read over SSH yet: podman's names and labels; the owner is the Unix user.
        assert (found["kind"], found["id"], found["owner"], found["via"]) == (
            "podman", cid, "root", "unix-user")  # fmt: skip
        assert proc["container"] is None
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)
