"""A GPU sampler whose nvidia-smi ended is started again, though the shell has no job to wake for."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.sources.ssh.probe import parse_frame
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

FAKE_NVIDIA_SMI = """#!/bin/sh
# The GPU query: its first run prints one sample and fails (status 3); later runs print a sample
# every 0.2 s until killed. The compute-apps query prints nothing and waits.
case "$*" in *query-gpu*) ;; *) exec sleep 600 ;; esac
run=$(cat "$CT_RUNS" 2>/dev/null || echo 0)
echo $((run + 1)) >"$CT_RUNS"
echo "1, run$run"
[ "$run" = 0 ] && exit 3
while sleep 0.2; do echo "1, run$run"; done
"""


def _gpu(frame: str) -> tuple[str, int | None]:
    """The gpu section's body and status ("" and None in a frame without it)."""
    section = parse_frame(frame, MARKER).sections.get("gpu")
    return ("", None) if section is None else (section.body, section.returncode)


@pytest.mark.parametrize("awk", AWKS)
def test_a_gpu_sampler_that_ended_is_started_again(awk: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nvidia-smi").write_text(FAKE_NVIDIA_SMI)
    (bin_dir / "nvidia-smi").chmod(0o755)
    env = {"CT_RUNS": str(tmp_path / "runs")}
    # No job, full scan or Slurm look wakes the shell within the test: only the samplers' watch.
    quiet = {"disk_every": 10000, "docker_every": 10000, "proc_every": 10000, "slurm_look": 10000}
    probe = LocalProbe(awk, tmpdir=tmp_path, path=str(bin_dir), extra_env=env, options=quiet)
    try:
        first = _gpu(probe.tick(0))  # tick 1 waits for the first sample
        assert first[1] == 3, first  # nvidia-smi's status: it ended
        # The shell retries a failed sampler 30 s after its last start; ticks keep coming.
        wait_for(lambda: "run1" in _gpu(probe.tick(0))[0], 90, 0.3, "the sampler's second run")
    finally:
        probe.close()
