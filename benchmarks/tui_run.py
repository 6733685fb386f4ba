"""Runs the headless TUI measurement (benchmarks.tui_driver) in its own process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.harness import REPO, python_module


def run_tui(frames: Path, hosts: int, presses: int, interval: float, work: Path) -> dict[str, Any]:
    """The driver's figures (p50/p95/max ms, missed keys...), or {"error": why}."""
    argv = python_module(
        "benchmarks.tui_driver",
        "--frames", str(frames),
        "--hosts", str(hosts),
        "--presses", str(presses),
        "--interval", str(interval),
    )  # fmt: skip
    print(f"TUI, {hosts} hosts updating every {interval:g} s", flush=True)
    log = work / "tui.log"
    try:
        with log.open("w") as err:
            done = subprocess.run(
                argv, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.PIPE, stderr=err, text=True, timeout=120 + presses, check=False,
            )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"error": "TUI measurement timed out"}
    for line in reversed(done.stdout.splitlines()):
        event = json.loads(line)
        if event.get("ev") == "tui":
            figures: dict[str, Any] = {**event, "interval": interval}
            print(f"  TUI p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")
            return figures
    tail = log.read_text(errors="replace")[-500:]
    return {"error": f"TUI driver exited with {done.returncode}: {tail}"}
