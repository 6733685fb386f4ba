"""The benchmark end to end at toy size: one command, every tool, RESULTS.md, plot, clean stop."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks.harness import REFERENCE_TOOLS, python_env
from benchmarks.sshfleet import SSHD

from benchmarks import cgroups

REPO = Path(__file__).resolve().parents[2]


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (sshd, cgroups)"
    if not cgroups.available():
        return "needs a cgroup v1 cpuacct hierarchy at /sys/fs/cgroup/cpuacct"
    missing = [
        t for t in (SSHD, "ssh", "ssh-keygen") if not shutil.which(t) and not Path(t).exists()
    ]
    return f"missing: {', '.join(missing)}" if missing else None


pytestmark = pytest.mark.skipif(_unavailable() is not None, reason=str(_unavailable()))


# Names benchmarks.run gives its CPU groups and fleet folders (a random run id each); other
# benchmarks (probe_cost, ...) that someone runs on this machine meanwhile name theirs otherwise.
_RUN_GROUP = re.compile(r"ctbench-(?:fake-)?[0-9a-f]{6}")
_RUN_FOLDER = re.compile(r"ctb-(?:fake-)?[0-9a-f]{6}")


def _ours() -> set[str]:
    """Benchmark cgroups, fleet folders and processes (sshd, fake server) that exist right now."""
    groups = {p.name for p in cgroups.CPUACCT.glob("ctbench-*") if _RUN_GROUP.fullmatch(p.name)}
    folders = {p.name for p in Path("/tmp").glob("ctb-*") if _RUN_FOLDER.fullmatch(p.name)}
    processes = set()
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"benchmarks.fakehosts" in args or (b"sshd" in args and b"/tmp/ctb-" in args):
            processes.add(f"pid {entry.name}")
    return groups | folders | processes


def test_quick_run_writes_every_figure_for_every_tool_and_stops_everything(tmp_path: Path) -> None:
    before = _ours()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--out", str(tmp_path)],
        cwd=REPO,
        env=python_env(),  # this tree's clustertop, not the venv's install
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    raw = json.loads((tmp_path / "results.json").read_text())
    installed = {"clustertop", "exec-per-tick"} | {
        t for t in ("pdsh", "clush") if t not in " ".join(raw["run"]["notes"])
    }
    for server, hosts in (("sshd", 2), ("fake", 3)):
        got = {r["tool"]: r for r in raw["results"] if (r["server"], r["hosts"]) == (server, hosts)}
        # clustertop's own probe started afresh every tick: a reference, on real sshd only.
        reference = set(REFERENCE_TOOLS) if server == "sshd" else set()
        assert set(got) == installed | reference
        for tool, result in got.items():
            assert result["error"] is None, (server, tool, result["error"])
            assert result["cold_s"] > 0 and result["window"]["sweeps"] >= 1
            assert result["client_cpu_ms"] > 0 and result["client_rss_mb"] > 1
            if server == "sshd":
                assert result["remote_ms"] > 0, (tool, "remote CPU of real sshd sessions")
        ours = got["clustertop"]["window"]
        assert ours["complete_hosts"] == hosts, "every host showed GPUs, containers, disks, procs"
    assert raw["tui"]["p95_ms"] is not None and raw["tui"]["missed"] == 0

    results_md = (tmp_path / "RESULTS.md").read_text()
    assert "## Targets" in results_md and "## Machine" in results_md
    assert "`.venv/bin/python -m benchmarks.run --quick" in results_md
    assert "| clustertop | " in results_md
    assert (tmp_path / "results.svg").read_text().lstrip().startswith("<?xml")
    # Nothing of this run is left: no sshd, no fake server, no cgroup, no fleet folder.
    left = _ours() - before
    assert not left, f"left behind: {left}"
