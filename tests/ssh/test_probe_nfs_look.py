"""NFS mounts in the frame awk (probe.awk): read every tick while the host has one, else looked
for again every NFSEVERY ticks (the disks' cadence), under every awk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clustertop.sources.ssh.probe import parse_frame, split_parts
from tests.ssh.test_probe_awk_samples import MARKER, TickAwk
from tests.ssh.test_probe_local import AWKS

LOCAL = "device /dev/vda1 mounted on / with fstype ext4\n"
NFS = (
    "device srv:/export mounted on /mnt/data with fstype nfs4 statvers=1.1\n"
    "\topts:\trw,vers=4.2\n"
    "\tbytes:\t{read} 2000 0 0 {read} 2000 10 5\n"
)


@pytest.fixture(params=AWKS)
def tick_awk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TickAwk]:
    extra = {"NFSEVERY": "3", "MOUNTSTATS": str(tmp_path / "mountstats")}
    (tmp_path / "mountstats").write_text(LOCAL)
    running = TickAwk(request.param, tmp_path, extra)
    try:
        yield running
    finally:
        running.close()


def _nfs(text: str) -> str | None:
    """The frame's nfs part of the dio section (None: no NFS mount in it)."""
    return split_parts(parse_frame(text, MARKER).sections["dio"].body, MARKER).get("nfs")


def test_a_new_nfs_mount_shows_within_nfsevery_ticks_then_every_tick(
    tick_awk: TickAwk, tmp_path: Path
) -> None:
    assert _nfs(tick_awk.tick()) is None  # tick 1: looked, none
    (tmp_path / "mountstats").write_text(LOCAL + NFS.format(read=1000))
    # Ticks 2 and 3 do not look again; tick 4 does (NFSEVERY 3).
    assert [_nfs(tick_awk.tick()) is None for _ in range(2)] == [True, True]
    found = _nfs(tick_awk.tick())
    assert found is not None and "srv:/export mounted on /mnt/data" in found
    assert "bytes:\t1000 2000" in found
    # While the host has one, each tick reads its counters afresh.
    for read in (1500, 2500):
        (tmp_path / "mountstats").write_text(LOCAL + NFS.format(read=read))
        now = _nfs(tick_awk.tick())
        assert now is not None and f"bytes:\t{read} 2000" in now
    # Unmounted: gone at once, and looked for every NFSEVERY ticks again.
    (tmp_path / "mountstats").write_text(LOCAL)
    assert _nfs(tick_awk.tick()) is None
    (tmp_path / "mountstats").write_text(LOCAL + NFS.format(read=3000))
    seen = [_nfs(tick_awk.tick()) is not None for _ in range(3)]
    assert seen == [False, False, True]
