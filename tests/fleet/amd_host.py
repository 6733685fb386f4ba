"""A fake AMD host on disk for the tests: two MI210s, their sysfs tree, the stand-in tools' spec."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from clustertop.model import MIB
from tests.fleet import fake_amd, hostbin
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import L40S, gpu
from tests.fleet.gpu_specs import spec as nvidia_spec
from tests.fleet.simhost import HostPlan, SimHost

GIB = 1024 * MIB
MI210: dict[str, Any] = {
    "card": "card10",
    "bus": "0000:83:00.0",
    "name": "AMD Instinct MI210",
    "util": 97,
    "vram_used": 20 * GIB,
    "vram_total": 65520 * MIB,
    "temp": 61.0,
    "power": 287.0,
    "cap": 300.0,
}
"""A busy MI210 (values from the real capture's board)."""
SECOND: dict[str, Any] = {
    **MI210,
    "card": "card2",
    "bus": "0000:c3:00.0",
    "util": 0,
    "vram_used": 10 * MIB,
}
"""An idle MI210: card2 sorts before card10 by name, after it by bus (HIP numbers by bus)."""


def write_amd_host(
    root: Path,
    spec: dict[str, Any],
    tools: tuple[str, ...] = (),
    *,
    bin_dir: Path | None = None,
    sysfs: bool = True,
) -> dict[str, str]:
    """The spec (tests/fleet/fake_amd.py) as root/amd.json, its sysfs tree under root/sys (an
    empty one where `sysfs` is False), `tools` in bin_dir (default root/bin); all readable by
    every user, as an ssh login reads them. Returns the environment that points at them."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    spec_path = root / "amd.json"
    spec_path.write_text(json.dumps(spec))
    spec_path.chmod(0o644)
    if sysfs:
        fake_amd.write_sysfs(root / "sys", spec)
    else:
        (root / "sys").mkdir(mode=0o755)  # a sysfs root without class/drm at all
    if tools:
        hostbin.install_amd_tools(bin_dir or root / "bin", tools)
    return {"CT_SYSFS_ROOT": str(root / "sys"), fake_amd.SPEC_ENV: str(spec_path)}


def add_amd_host(
    fleet: Fleet,
    name: str,
    spec: dict[str, Any],
    tool: str = "amd-smi",
    *,
    sysfs: bool = True,
    nvidia: bool = False,
) -> SimHost:
    """Fleet host `name` with the spec's AMD GPUs, `tool` its one stand-in, no Docker (and an
    L40S beside them where `nvidia`); its files in fleet.root/amd-<name>."""
    env = write_amd_host(fleet.root / f"amd-{name}", spec, sysfs=sysfs)
    gpus = nvidia_spec([gpu(name, 0, L40S)]) if nvidia else None
    plan = HostPlan(name, docker="absent", nvidia_smi=nvidia, gpu_spec=gpus, extra_env=env)
    host = fleet.add_host(plan)
    hostbin.install_amd_tools(host.bin_dir, (tool,))
    return host


@contextlib.contextmanager
def amd_fleet_hosts(
    fleet: Fleet, spec: dict[str, Any], hosts: Mapping[str, Mapping[str, Any]]
) -> Iterator[tuple[str, ...]]:
    """The hosts named, each added by add_amd_host with its keywords; removed at the end with
    their files, also when adding one fails."""
    added = []
    try:
        for name, options in hosts.items():
            add_amd_host(fleet, name, spec, **options)
            added.append(name)
        yield tuple(hosts)
    finally:
        for name in added:
            fleet.remove_host(name)
        for name in hosts:
            shutil.rmtree(fleet.root / f"amd-{name}", ignore_errors=True)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A real process on this machine (which every fleet host shares) for KFD's list to name."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    yield proc
    proc.kill()
    proc.wait()
