"""podman over SSH: the probe lists its containers beside Docker's; names, owners and stale."""

from __future__ import annotations

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.podman.engine import Podman
from tests.ssh.helpers import run_once

BUSY = 'trap "exit 0" TERM; while :; do :; done'


def test_a_podman_gpu_process_over_ssh(clean_fleet: Fleet, podman: Podman) -> None:
    cid, pid = podman.run("alice-ssh", "--label", "owner=carol", command=BUSY)
    h1 = clean_fleet["h1"]
    try:
        with podman.on_path(h1.bin_dir):
            h1.set_gpu_spec(
                spec([gpu("h1", 0, H200)], [{"gpu": 0, "pid": pid, "used_memory_mib": 500}])
            )
            result = run_once(clean_fleet, "h1", args=["--stale-after", "0"])
        assert result.returncode == 0, result.stderr
        host = result.host("h1")
        (proc,) = host["gpu_processes"]
        found = proc["attribution"]
        # podman ps read on the host: the label names the owner, as locally.
        assert (found["kind"], found["id"], found["name"], found["owner"], found["via"]) == (
            "podman", cid, "alice-ssh", "carol", "label")  # fmt: skip
        assert proc["container"] is None  # the Container column stays Docker's
        (row,) = [c for c in host["containers"] if c["id"] == cid]
        # Its GPU (from its process), an idle GPU with --stale-after 0: stale like Docker's.
        assert (row["engine"], row["name"], row["owner"], row["state"]) == (
            "podman", "alice-ssh", "carol", "running")  # fmt: skip
        assert (row["gpus"], row["stale"]) == ([0], True)
        assert host["podman_error"] is None
        assert all(c["engine"] == "docker" for c in host["containers"] if c["id"] != cid)
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)


def test_a_host_whose_podman_fails_says_so_and_keeps_docker(
    clean_fleet: Fleet, podman: Podman
) -> None:
    h1 = clean_fleet["h1"]
    broken = h1.bin_dir / "podman"
    broken.write_text("#!/bin/sh\necho 'Error: \x1b[31mstorage is locked' >&2\nexit 125\n")
    broken.chmod(0o755)
    try:
        result = run_once(clean_fleet, "h1")
    finally:
        broken.unlink()
    assert result.returncode == 0, result.stderr
    host = result.host("h1")
    assert host["podman_error"] == "podman ps: Error: \x1b[31mstorage is locked"
    assert host["docker_error"] is None
    assert all(c["engine"] == "docker" for c in host["containers"])
