"""The local disks section: real mounts of this machine, and a statvfs that never returns."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest

from clustertop.sources.local.disks import DiskReader, DiskReading, Mount, real_mounts
from tests.waiting import wait_for


def test_root_is_listed_with_exactly_its_statvfs_size_and_inodes() -> None:
    reading = DiskReader().read()

    st = os.statvfs("/")
    [root] = [d for d in reading.disks if d.mount == "/"]
    assert root.total == st.f_blocks * st.f_frsize
    # Other processes write meanwhile: free space moves between the two reads.
    assert root.available == pytest.approx(st.f_bavail * st.f_frsize, rel=0.01)
    assert root.used == pytest.approx((st.f_blocks - st.f_bfree) * st.f_frsize, rel=0.01)
    if st.f_files:
        assert root.inodes_total == st.f_files
        assert root.inodes_used == pytest.approx(st.f_files - st.f_ffree, rel=0.01)
    assert reading.error is None


def test_pseudo_filesystems_are_left_out_and_each_device_shows_once() -> None:
    disks = DiskReader().read().disks

    pseudo = {"proc", "sysfs", "tmpfs", "devtmpfs", "overlay", "squashfs", "cgroup", "cgroup2"}
    assert not [d for d in disks if d.fstype in pseudo]
    assert not [d for d in disks if d.mount.startswith(("/proc", "/sys", "/dev/"))]
    devices = [d.device for d in disks]
    assert len(devices) == len(set(devices))


def test_real_mounts_prefers_the_shortest_mount_point_of_a_device() -> None:
    mounts = real_mounts()

    with open("/proc/self/mounts", encoding="utf-8") as table:
        root_device = next(line.split()[0] for line in table if line.split()[1] == "/")
    assert Mount("/", root_device, next(m.fstype for m in mounts if m.mount == "/")) in mounts


class HungMount:
    """A statvfs that blocks for one mount point until released (stands in for dead NFS)."""

    def __init__(self, mount: str) -> None:
        self.mount = mount
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, path: str) -> os.statvfs_result:
        if path == self.mount:
            self.calls += 1
            self.release.wait(30)
            return os.statvfs("/")
        return os.statvfs(path)


@pytest.fixture
def hung() -> Iterator[HungMount]:
    stat = HungMount("/mnt/dead-nfs")
    yield stat
    stat.release.set()


MOUNTS = [Mount("/", "/dev/root", "ext4"), Mount("/mnt/dead-nfs", "srv:/export", "nfs4")]


def test_a_hung_mount_is_reported_as_timed_out_without_freezing_the_others(
    hung: HungMount,
) -> None:
    reader = DiskReader(statvfs=hung, timeout=0.3)

    started = time.monotonic()
    reading = reader.read(MOUNTS)

    assert time.monotonic() - started < 2.0
    assert [d.mount for d in reading.disks] == ["/"]
    assert reading.error == "statvfs timed out (hung mount?): /mnt/dead-nfs"


def test_a_hung_mount_is_not_statted_again_until_its_call_returns(hung: HungMount) -> None:
    reader = DiskReader(statvfs=hung, timeout=0.2)
    reader.read(MOUNTS)

    second = reader.read(MOUNTS)
    assert hung.calls == 1
    assert second.error == "statvfs timed out (hung mount?): /mnt/dead-nfs"

    hung.release.set()

    # The abandoned call has returned: the mount is tried again (and now answers).
    def answered() -> DiskReading | None:
        reading = reader.read(MOUNTS)
        return reading if reading.error is None else None

    third = wait_for(answered, timeout=5.0, what="the mount to be read again")
    assert third is not None
    assert sorted(d.mount for d in third.disks) == ["/", "/mnt/dead-nfs"]


def test_a_mount_that_fails_is_named_with_the_reason() -> None:
    reading = DiskReader(timeout=1.0).read([Mount("/no/such/mount", "/dev/x", "ext4")])

    assert reading.disks == ()
    assert reading.error == "/no/such/mount: No such file or directory"
