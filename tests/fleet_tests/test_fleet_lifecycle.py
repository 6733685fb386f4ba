"""A fleet of its own, started and stopped: nothing of it may outlive Fleet.stop()."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet import procs
from tests.fleet.fleet import Fleet
from tests.fleet.plugin import fleet_unavailable
from tests.fleet.simhost import HostPlan

pytestmark = [pytest.mark.fleet, pytest.mark.docker]


@pytest.fixture
def own_fleet() -> Iterator[Fleet]:
    reason = fleet_unavailable()
    if reason:
        pytest.skip(f"loopback fleet unavailable: {reason}")
    fleet = Fleet.start(
        [HostPlan("solo"), HostPlan("bare", docker="absent", nvidia_smi=False)], jump=False
    )
    try:
        yield fleet
    finally:
        fleet.stop()


def _process_names(pids: list[int]) -> list[str]:
    return [
        Path(f"/proc/{p}/comm").read_bytes().decode(errors="replace").strip()
        for p in pids
        if procs.alive(p)
    ]


def test_stop_leaves_no_daemon_session_container_or_folder(own_fleet: Fleet) -> None:
    solo = own_fleet["solo"]
    assert solo.docker is not None
    solo.docker.run_container("erin-job", "sleep", "600")
    container_pid = solo.docker.container_pid("erin-job")
    session = subprocess.Popen(
        solo.ssh_argv("echo $$; exec sleep 600"), stdout=subprocess.PIPE, text=True
    )
    assert session.stdout is not None
    remote_pid = int(session.stdout.readline())
    orphan = solo.ssh("nohup sleep 600 >/dev/null 2>&1 & echo $!")
    orphan_pid = int(orphan.stdout)
    assert procs.alive(orphan_pid)
    assert solo.sshd.process is not None and solo.docker.process is not None
    daemons = [
        solo.sshd.process.pid,
        solo.docker.process.pid,
        *procs.descendants(solo.docker.process.pid),
    ]
    sessions = procs.descendants(solo.sshd.process.pid)
    assert remote_pid in sessions
    assert "containerd" in _process_names(daemons)
    root = own_fleet.root

    own_fleet.stop()

    session.wait(timeout=10)
    everything = [*daemons, *sessions, container_pid, remote_pid, orphan_pid]
    left = [p for p in everything if procs.alive(p)]
    assert left == [], _process_names(left)
    assert procs.pids_mentioning(root) == []
    assert procs.mounts_under(root) == []
    assert not root.exists()


def test_stop_is_idempotent_and_context_managed(own_fleet: Fleet) -> None:
    with own_fleet as fleet:
        out = fleet["bare"].ssh("command -v docker nvidia-smi; echo $CT_HOST")
        assert out.stdout == "bare\n"
    assert not fleet.root.exists()
    fleet.stop()
