"""Real rootful podman for the session, skipped with the reason when it cannot run here."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.podman.engine import Podman, missing_programs


@pytest.fixture(scope="session")
def podman() -> Iterator[Podman]:
    """podman with our own storage and containers.conf (about 0.2 s)."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"podman not usable (missing {', '.join(missing)}: apt-get install podman)")
    if os.geteuid() != 0:
        pytest.skip("rootful podman needs root")
    root = Path(tempfile.mkdtemp(prefix="ct-podman-"))
    engine = Podman(root)
    try:
        engine.setup()
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def rootless_podman() -> Iterator[Podman]:
    """podman run by `nobody` (rootless, vfs storage, no container cgroup on cgroup v1)."""
    missing = missing_programs()
    if missing:
        pytest.skip(f"podman not usable (missing {', '.join(missing)}: apt-get install podman)")
    if os.geteuid() != 0:
        pytest.skip("starting podman as another user needs root")
    root = Path(tempfile.mkdtemp(prefix="ct-podman-rootless-"))
    engine = Podman(root, user="nobody")
    try:
        engine.setup()
        yield engine
    finally:
        engine.stop()
        shutil.rmtree(root, ignore_errors=True)
