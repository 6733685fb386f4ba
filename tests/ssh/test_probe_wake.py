"""The frame awk wakes the probe's shell only on ticks with work for it: a `docker events` line
still makes the next ticks re-read containers long before the periodic refresh (30 ticks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.sources.ssh.probe import parse_frame
from tests.ssh.test_probe_local import AWKS, MARKER, LocalProbe
from tests.waiting import wait_for

CONTAINER_ID = "c" * 64
FAKE_DOCKER = """#!/bin/sh
# One container once $CT_TRIGGER exists; `docker events` reports it (one line), then waits.
case "$1" in
events)
	while [ ! -e "$CT_TRIGGER" ]; do sleep 0.05; done
	echo start
	exec sleep 600
	;;
ps) [ -e "$CT_TRIGGER" ] && echo "$CT_ID" ;;
inspect) echo "$CT_ID 1 /nonexistent/$CT_ID-json.log {}" ;;
esac
exit 0
"""


def _docker_body(frame: str) -> str | None:
    section = parse_frame(frame, MARKER).sections.get("docker")
    return None if section is None else section.body


@pytest.mark.parametrize("awk", AWKS)
def test_a_docker_event_rereads_containers_at_once(awk: str, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    trigger = tmp_path / "trigger"
    env = {"CT_TRIGGER": str(trigger), "CT_ID": CONTAINER_ID}
    # No Slurm look (where slurmd is installed) wakes the shell within these ticks.
    options = {"slurm_look": 1000}
    probe = LocalProbe(awk, tmpdir=tmp_path, path=str(bin_dir), extra_env=env, options=options)
    try:
        first = _docker_body(probe.tick(0))  # tick 1 runs the docker job (and its first wait)
        assert first is not None and CONTAINER_ID not in first
        for _ in range(3):
            probe.tick(0)  # ticks with no shell work: the frame awk alone
        (probe_dir,) = tmp_path.glob("clustertop.*")
        rc_file = probe_dir / "docker.rc"
        rc_before = rc_file.read_text()
        trigger.touch()
        wait_for((probe_dir / "docker.gen").exists, 30, what="docker events line")
        probe.tick(0)  # tick 5: the awk sees docker.gen change and wakes the shell (its own
        # next wake is tick 6: the samplers' watch, since there is no nvidia-smi here)

        def ended() -> bool:  # a whole new status line (it is written while being read)
            text = rc_file.read_text()
            return text.endswith("\n") and text != rc_before

        wait_for(ended, 30, what="the docker job's end")
        body = _docker_body(probe.tick(0))
        assert probe.seq < 30  # well before the periodic refresh
        assert body is not None and f"{CONTAINER_ID} 1 " in body, body
    finally:
        probe.close()
