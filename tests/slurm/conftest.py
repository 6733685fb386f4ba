"""A real single-node Slurm for the session, skipped with the reason when it cannot run here."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

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
