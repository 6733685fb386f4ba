"""A real single-node Slurm for the session, skipped with the reason when it cannot run here."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.fleet.simhost import HostPlan, SimHost
from tests.slurm.cluster import SlurmCluster, missing_programs


@pytest.fixture(scope="session")
def slurm() -> Iterator[SlurmCluster]:
    """slurmctld + slurmd + munged of our own (ports, node name, munge socket), about 1 s."""
    missing = missing_programs()
    if missing:
        pytest.skip(
            f"Slurm not installed (missing {', '.join(missing)}: apt-get install slurm-wlm munge)"
        )
    if os.geteuid() != 0:
        pytest.skip("a test Slurm needs root (slurmd runs jobs as another user)")
    if not Path("/sys/fs/cgroup/freezer").is_dir():
        pytest.skip("a test Slurm needs the cgroup v1 freezer hierarchy (proctrack/cgroup)")
    # Not pytest's tmp folder: munged and the job user must be able to walk into it.
    root = Path(tempfile.mkdtemp(prefix="ct-slurm-"))
    root.chmod(0o755)
    cluster = SlurmCluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def slurm_host(fleet: Fleet, slurm: SlurmCluster) -> Iterator[SimHost]:
    """A fleet host whose sessions find the test Slurm (SLURM_CONF), with four idle stand-in GPUs
    (as many as the test Slurm has: whichever a job gets is there)."""
    plan = HostPlan(
        "slurmhost",
        docker="none-running",
        gpu_spec=spec([gpu("slurmhost", index, H200) for index in range(4)]),
        extra_env={"SLURM_CONF": str(slurm.conf)},
    )
    host = fleet.add_host(plan)
    try:
        yield host
    finally:
        fleet.remove_host(host.name)


@pytest.fixture
def slurm_env(slurm: SlurmCluster, monkeypatch: pytest.MonkeyPatch) -> SlurmCluster:
    """This process (the local source, the action programs) talks to the test Slurm."""
    monkeypatch.setenv("SLURM_CONF", str(slurm.conf))
    monkeypatch.setenv("PATH", slurm.env["PATH"])
    return slurm
