"""Processes in real podman containers, attributed end to end in `--once --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.podman.engine import Podman

# Busy PID 1 (so it is among the top processes by CPU) that still stops at once on SIGTERM.
BUSY = 'trap "exit 0" TERM; while :; do :; done'


def _once_json(env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    base = {k: v for k, v in env.items() if not k.startswith("CLUSTERTOP_")}
    done = subprocess.run(
        [sys.executable, "-m", "clustertop", "--once", "--json", "--timeout", "5"],
        capture_output=True, text=True, timeout=timeout, env=base, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def _attribution(doc: dict[str, Any], pid: int) -> dict[str, Any]:
    (host,) = doc["hosts"]
    rows = [p for p in host["processes"] if p["pid"] == pid]
    assert rows, f"pid {pid} not among the listed processes"
    found: dict[str, Any] = rows[0]["attribution"]
    return found


def test_label_owner_then_name_prefix(podman: Podman) -> None:
    labelled, pid1 = podman.run("alice-train", "--label", "owner=carol", command=BUSY)
    named, pid2 = podman.run("dave-eval", command=BUSY)
    try:
        doc = _once_json(podman.env)
        first = _attribution(doc, pid1)
        assert first == {
            "kind": "podman", "id": labelled, "name": "alice-train", "owner": "carol",
            "via": "label", "step": None, "uid": None, "container_id": None, "gpus": None,
            "account": None, "namespace": None, "partition": None,
        }  # fmt: skip
        second = _attribution(doc, pid2)
        assert (second["id"], second["name"], second["owner"], second["via"]) == (
            named, "dave-eval", "dave", "name")  # fmt: skip
        # podman's containers are listed beside Docker's, each saying its engine.
        listed = {c["id"]: c for c in doc["hosts"][0]["containers"]}
        assert (listed[labelled]["engine"], listed[labelled]["owner"]) == ("podman", "carol")
        assert (listed[named]["engine"], listed[named]["owner"]) == ("podman", "dave")
    finally:
        podman.cli("rm", "-f", "-t", "0", labelled, named)


def test_a_hanging_podman_leaves_the_kind_and_the_true_user(podman: Podman, tmp_path: Path) -> None:
    cid, pid = podman.run("erin-hang", "--label", "owner=erin", command=BUSY)
    stub = tmp_path / "podman"
    stub.write_text("#!/bin/sh\nexec sleep 600\n")
    stub.chmod(0o755)
    try:
        env = {**podman.env, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
        started = time.monotonic()
        found = _attribution(_once_json(env, timeout=30), pid)
        assert time.monotonic() - started < 30
        # Labels unknown: not a guess from elsewhere, the process's own user.
        assert (found["kind"], found["id"], found["owner"], found["via"]) == (
            "podman", cid, "root", "unix-user")  # fmt: skip
    finally:
        podman.cli("rm", "-f", "-t", "0", cid)


def test_rootless_podman_is_found_through_conmon(rootless_podman: Podman) -> None:
    """cgroup v1 gives a rootless container no cgroup of its own: conmon names it."""
    cid, pid = rootless_podman.run("zed-rootless", "--network", "none", command=BUSY)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINERS_")}
        doc = _once_json(env)
        found = _attribution(doc, pid)
        # root's podman ps does not list it: name from conmon's -n, owner the rootless user
        # (the name prefix "zed" is not trusted from a command line).
        assert (found["kind"], found["id"], found["name"], found["owner"], found["via"]) == (
            "podman", cid, "zed-rootless", "nobody", "rootless-user")  # fmt: skip
        # Listed among the containers from its process, marked as another user's rootless one.
        (row,) = [c for c in doc["hosts"][0]["containers"] if c["id"] == cid]
        assert (row["engine"], row["name"], row["rootless_user"], row["state"]) == (
            "podman", "zed-rootless", "nobody", "running")  # fmt: skip
    finally:
        rootless_podman.cli("rm", "-f", "-t", "0", cid)
