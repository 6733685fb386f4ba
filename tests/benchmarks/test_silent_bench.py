"""The dead-hosts benchmark at a small size: every figure there, every healthy host up, no rule left."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (sshd, iptables)"
    missing = [t for t in ("iptables", "ssh-keygen") if not shutil.which(t)]
    if not Path("/usr/sbin/sshd").exists():
        missing.append("/usr/sbin/sshd")
    return f"missing: {', '.join(missing)}" if missing else None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=str(_unavailable()))


def _input_rules() -> str:
    listed = subprocess.run(
        ["iptables", "-w", "-S", "INPUT"], capture_output=True, text=True, check=True
    )
    return listed.stdout


def test_small_run_brings_every_healthy_host_up_and_fails_the_jump_hosts_together() -> None:
    argv = [sys.executable, "-m", "benchmarks.silent", "--silent", "40", "--healthy", "2"]
    done = subprocess.run(
        [*argv, "--behind-jump", "4"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = {line["what"]: line for line in map(json.loads, done.stdout.splitlines())}
    assert lines["once"]["healthy_up"] == "2 of 2", lines["once"]
    assert lines["once"]["hosts"] == 42
    assert lines["source"]["reached"] == "2 of 2", lines["source"]
    assert lines["behind_live_jump"]["reached"] == "2 of 2", lines["behind_live_jump"]
    jump = lines["jump"]
    assert jump["reached"] == "4 of 4", jump
    # One shared attempt: they fail together, within one connect timeout of each other.
    assert jump["last_s"] - jump["first_s"] < jump["connect_timeout_s"], jump
    assert lines["once"]["dropped"] not in _input_rules(), "the DROP rule was left behind"
