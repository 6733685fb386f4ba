"""The per-tick awk (probe.awk) driven directly, as the probe's shell drives it: its first frame
comes before any GPU process sample, the next ones after. Every frame stays whole.

Under gawk 5.2 (Debian 12's) the sample entries used before their first sample were freed twice
(an array entry never assigned, passed to a function and then split). Two later strings then
shared one cell, and with frames sent in one write the second frame's `e gpu` line came out as a
/proc path from the tick line: the client dropped the GPU section, and `--once` lost the GPU
processes of a host whose probe had just started.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from clustertop.sources.ssh.probe import parse_frame
from tests.ssh.test_probe_local import AWKS

MARKER = "@cttest0123456789ab"
GPU_ROWS = [
    "2, 0, GPU-857e9af9-ea7a-d81c-6d34-dc36cc629378, NVIDIA H200, 37, 7, 5500, 143771, 61,"
    " 627.40, 700.00, [N/A], 00000000:18:00.0, 0, Disabled",
    "2, 1, GPU-70ec2991-a3b7-346a-234a-86ab64880e78, NVIDIA H200, 0, 7, 0, 143771, 52,"
    " 627.40, 700.00, [N/A], 00000000:28:00.0, 0, Disabled",
]
APP_ROWS = [
    "2026/12/07 05:11:22.264, GPU-857e9af9-ea7a-d81c-6d34-dc36cc629378, 23306, 4000, sh",
    "2026/12/07 05:11:22.264, GPU-857e9af9-ea7a-d81c-6d34-dc36cc629378, 23375, 1500, sleep",
]


class TickAwk:
    """probe.awk reading tick lines from a pipe, its samples in `folder`."""

    def __init__(self, awk: str, folder: Path, extra: dict[str, str] | None = None) -> None:
        program = resources.files("clustertop.sources.ssh").joinpath("probe.awk").read_text()
        interactive = ["-W", "interactive"] if awk == "mawk" else []  # as the probe runs it
        variables = {
            "DIR": str(folder),
            "TOP_N": "25",
            "HZ": str(os.sysconf("SC_CLK_TCK")),
            "ARGS_LIMIT": "4096",
            "MAWK": "1" if awk == "mawk" else "0",
            "AWKBIN": awk,
            "AMD": "0",
            "KFD": str(folder / "no-kfd"),
            "IBDIRS": "",
            "PORTEVERY": "5",
            "PORTIDLE": "150",
            "HOLDEREVERY": "30",
            "SLURM": "0",
            **(extra or {}),
        }
        assigned = [arg for key, value in variables.items() for arg in ("-v", f"{key}={value}")]
        self.proc = subprocess.Popen(
            [*awk.split(), *interactive, *assigned, program],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            errors="replace",
            env={**os.environ, "LC_ALL": "C", "CT_MARKER": MARKER},
        )
        self.seq = 0

    def tick(self) -> str:
        """One full-scan tick, its /proc entries listed as the shell's glob lists them."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.seq += 1
        entries = sorted(str(p) for p in Path("/proc").iterdir() if p.name.isdigit())
        self.proc.stdin.write(f"t {self.seq} - - 1 {' '.join(entries)}\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            line = self.proc.stdout.readline()
            assert line, "the awk ended"
            lines.append(line)
            if line.startswith(f"{MARKER} d {self.seq}"):
                return "".join(lines)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(params=AWKS)
def tick_awk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TickAwk]:
    running = TickAwk(request.param, tmp_path)
    try:
        yield running
    finally:
        running.close()


def _write_sample(folder: Path, kind: str, uptime: str, rows: list[str]) -> None:
    # As collect.awk writes it: the uptime, the rows, "@end" (protocol.md).
    (folder / f"{kind}.cur").write_text("\n".join([uptime, *rows, "@end"]) + "\n")


def _whole(text: str) -> None:
    """Each section a frame opens it also closes, and only marker lines name sections."""
    words = [line.split() for line in text.splitlines() if line.startswith(MARKER + " ")]
    opened = [w[2] for w in words if w[1] == "b"]
    closed = [w[2] for w in words if w[1] == "e"]
    assert opened == closed, text


def test_frames_stay_whole_when_the_first_process_sample_comes(
    tick_awk: TickAwk, tmp_path: Path
) -> None:
    _write_sample(tmp_path, "gpu", "100.00", [*GPU_ROWS, "@rc 0"])
    first = tick_awk.tick()  # before any GPU process sample
    _whole(first)
    assert parse_frame(first, MARKER).sections["gpu"].body.count("NVIDIA H200") == 2

    _write_sample(tmp_path, "apps", "101.00", APP_ROWS)
    for _ in range(3):
        text = tick_awk.tick()
        _whole(text)
        gpu = parse_frame(text, MARKER).sections.get("gpu")
        if gpu is None:  # unchanged samples: "same gpu"
            assert f"{MARKER} same gpu 100.00" in text, text
            continue
        for row in [*GPU_ROWS, *APP_ROWS]:
            assert row in gpu.body, text
        assert gpu.returncode == 0 and f"{MARKER} apps 0 101.00" in gpu.body, text
