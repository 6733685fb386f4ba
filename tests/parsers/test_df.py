"""df parsing on the real captures, on this machine's own df (GNU and BusyBox), and ugly rows."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from clustertop.model import Disk
from clustertop.parsers.df import (
    GNU_OUTPUT_COLUMNS,
    is_network_filesystem,
    is_pseudo_filesystem,
    local_disks,
    parse_df,
    parse_df_inodes,
)
from tests.parsers._fixtures import read_fixture

K = 1024
GIB = 1024**3


def test_snap_loops_leave_only_the_root_disk() -> None:
    disks = parse_df(read_fixture("df/ubuntu1804-df-snap-loops.txt"))
    assert len(disks) == 18
    assert local_disks(disks) == [
        Disk(mount="/", device="/dev/sda2", fstype="", total=20508240 * K, used=5748028 * K,
             available=13695408 * K)
    ]  # fmt: skip
    loop0 = next(d for d in disks if d.device == "/dev/loop0")
    assert (loop0.mount, loop0.total, loop0.available) == ("/snap/core18/1223", 55936 * K, 0)


def test_centos_1k_blocks() -> None:
    disks = parse_df(read_fixture("df/centos7-df.txt"))
    assert [d.mount for d in disks] == [
        "/dev", "/dev/shm", "/run", "/sys/fs/cgroup", "/", "/boot", "/run/user/1000"
    ]  # fmt: skip
    assert [(d.device, d.total, d.used, d.available) for d in local_disks(disks)] == [
        ("/dev/mapper/centos-root", 17811456 * K, 1805580 * K, 16005876 * K),
        ("/dev/sda1", 1038336 * K, 237600 * K, 800736 * K),
    ]


def test_long_device_overflowing_its_column_and_dash_capacity() -> None:
    disks = parse_df(read_fixture("df/df-PT-long-filesystem-overflow.txt"))
    assert disks[0] == Disk(
        mount="/", device="/dev/mapper/VolGroup00-LogVol00", fstype="ext3",
        total=6030784 * K, used=1147932 * K, available=4571556 * K,
    )  # fmt: skip
    assert [(d.device, d.fstype, d.mount, d.total) for d in disks[1:]] == [
        ("proc", "proc", "/proc", 0),
        ("sysfs", "sysfs", "/sys", 0),
    ]
    assert [d.mount for d in local_disks(disks)] == ["/"]


def test_macos_512_blocks_inode_columns_and_spaces() -> None:
    disks = parse_df(read_fixture("df/macos-10.14-df.txt"))
    assert len(disks) == 8
    root = disks[0]
    assert (root.device, root.total, root.used) == (
        "/dev/disk1s1",
        976490576 * 512,
        302197928 * 512,
    )
    assert (root.inodes_used, root.inodes_total) == (1507695, 1507695 + 9223372036853268112)
    maps = [(d.device, d.mount) for d in disks if d.device.startswith("map ")]
    assert maps == [("map -hosts", "/net"), ("map auto_home", "/home")]
    snapshot = disks[6]
    assert snapshot.mount.endswith("/2019-11-29-075900/Macintosh HD")
    assert snapshot.device == "com.apple.TimeMachine.2019-11-29-075900@/dev/disk1s1"
    local = [d.mount for d in local_disks(disks)]
    assert "/Volumes/brazil" not in local  # AFP share: network
    assert "/net" not in local and "/dev" not in local


def test_human_output_is_read_approximately() -> None:
    disks = parse_df(read_fixture("df/centos7-df-h.txt"))
    root = next(d for d in disks if d.mount == "/")
    assert (root.total, root.available) == (17 * GIB, 16 * GIB)
    assert root.used == round(1.8 * GIB)
    boot = next(d for d in disks if d.mount == "/boot")
    assert boot.total == 1014 * 1024**2
    ubuntu = parse_df(read_fixture("df/ubuntu1804-df-h.txt"))
    assert [(d.mount, d.total) for d in local_disks(ubuntu)] == [("/", 20 * GIB)]


GNU_PT_B1 = """\
Filesystem     Type         1-blocks        Used   Available Capacity Mounted on
/dev/nvme0n1p2 ext4     982141468672 12345678848 919773245440       2% /
/dev/sdb1      xfs     4000787030016 3999000000000  1787030016     100% /mnt/my disk
/dev/sdc1      ext4     1000000000    10000000    900000000       2% /media/user/USB  STICK
overlay        overlay  982141468672 12345678848 919773245440  2% /var/lib/docker/overlay2/a/merged
tmpfs          tmpfs      6554578944           0  6554578944       0% /dev/shm
nas:/export    nfs4    10995116277760 5497558138880 5497558138880 50% /home
/dev/sdd1      ext4     1000000000  1100000000   -100000000     100% /full
"""


def test_gnu_b1_mount_points_with_spaces_and_filtering() -> None:
    disks = parse_df(GNU_PT_B1)
    assert [d.mount for d in disks] == [
        "/", "/mnt/my disk", "/media/user/USB  STICK", "/var/lib/docker/overlay2/a/merged",
        "/dev/shm", "/home", "/full",
    ]  # fmt: skip
    assert disks[1] == Disk(
        mount="/mnt/my disk", device="/dev/sdb1", fstype="xfs",
        total=4000787030016, used=3999000000000, available=1787030016,
    )  # fmt: skip
    assert disks[6].available == 0  # negative Avail: root's reserve in use
    assert [d.mount for d in local_disks(disks)] == [
        "/", "/mnt/my disk", "/media/user/USB  STICK", "/full"
    ]  # fmt: skip


def test_device_wrapped_onto_its_own_line() -> None:
    text = (
        "Filesystem           1K-blocks      Used Available Use% Mounted on\n"
        "/dev/mapper/VolGroup00-LogVol00\n"
        "                       6030784   1147932   4571556  21% /\n"
        "/dev/sda1               101086     12538     83329  14% /boot\n"
    )
    assert [(d.device, d.mount, d.total) for d in parse_df(text)] == [
        ("/dev/mapper/VolGroup00-LogVol00", "/", 6030784 * K),
        ("/dev/sda1", "/boot", 101086 * K),
    ]


def test_truncated_output_keeps_complete_rows() -> None:
    cut = GNU_PT_B1[: GNU_PT_B1.index("/mnt/my disk") - 20]
    assert [d.mount for d in parse_df(cut)] == ["/"]


def test_empty_and_garbage() -> None:
    assert parse_df("") == []
    assert parse_df("Filesystem 1K-blocks Used Available Use% Mounted on\n") == []
    for garbage in ("df: /mnt/nfs: Stale file handle\n", "<html>", "Filesystem Size\n"):
        with pytest.raises(ValueError):
            parse_df(garbage)


def test_inode_output_is_not_size_output() -> None:
    inode_text = "Filesystem Inodes IUsed IFree IUse% Mounted on\n/dev/sda1 10 1 9 10% /\n"
    with pytest.raises(ValueError):
        parse_df(inode_text)
    with pytest.raises(ValueError):
        parse_df_inodes(GNU_PT_B1)


def test_inodes_gnu_busybox_and_filesystems_without_inodes() -> None:
    gnu = (
        "Filesystem      Inodes   IUsed    IFree IUse% Mounted on\n"
        "/dev/sda2     1310720  245112  1065608   19% /\n"
        "/dev/sdb1           0       0        0     - /mnt/btrfs pool\n"
        "/dev/sdc1     6553600      11  6553589    1% /data disk\n"
    )
    assert parse_df_inodes(gnu) == {"/": (1310720, 245112), "/data disk": (6553600, 11)}
    busybox = (
        "Filesystem              Inodes      Used Available Capacity Mounted on\n"
        "/dev/vda              16777216    416300  16360916   2% /\n"
    )
    assert parse_df_inodes(busybox) == {"/": (16777216, 416300)}
    typed = "Filesystem Type Inodes IUsed IFree IUse% Mounted on\n/dev/sda2 ext4 100 5 95 5% /\n"
    assert parse_df_inodes(typed) == {"/": (100, 5)}


def test_gnu_output_columns_carry_sizes_and_inodes_in_one_run() -> None:
    text = (
        "Filesystem Type     1B-blocks        Used       Avail Use%  IUsed    IFree IUse% Mounted on\n"
        "/dev/sda2  ext4  270553174016 25271070720 83673223168  24% 452208 16325008    3% /\n"
        "/dev/sdb1  btrfs   1073741824     1048576  1072693248   1%      0        0     - /mnt/b\n"
        "/dev/sdc1  xfs     2147483648           0  2147483648   0%      -        -     - /data disk\n"
    )
    root, btrfs, spaced = parse_df(text)
    assert root == Disk(
        mount="/", device="/dev/sda2", fstype="ext4", total=270553174016, used=25271070720,
        available=83673223168, inodes_total=452208 + 16325008, inodes_used=452208,
    )  # fmt: skip
    assert (btrfs.mount, btrfs.inodes_total, btrfs.inodes_used) == ("/mnt/b", None, None)
    assert (spaced.mount, spaced.total, spaced.inodes_total) == ("/data disk", 2 * GIB, None)


@pytest.mark.skipif(shutil.which("df") is None, reason="no df here")
def test_this_machines_gnu_df_output_matches_its_two_posix_runs() -> None:
    def run(*args: str) -> str:
        return subprocess.run(["df", *args], capture_output=True, text=True, check=False).stdout

    one = run("-B1", "-l", f"--output={GNU_OUTPUT_COLUMNS}")
    if not one.startswith("Filesystem"):
        pytest.skip("df here is not GNU df with --output")
    sizes = {d.mount: d for d in parse_df(run("-P", "-T", "-B1", "-l"))}
    inodes = parse_df_inodes(run("-P", "-i", "-l"))
    disks = parse_df(one)
    assert disks and {d.mount for d in disks} == set(sizes)
    for disk in disks:
        two = sizes[disk.mount]
        assert (disk.device, disk.fstype, disk.total) == (two.device, two.fstype, two.total)
        assert (disk.inodes_total is not None) == (disk.mount in inodes)
        if disk.inodes_total is not None:
            assert disk.inodes_total == inodes[disk.mount][0]


@pytest.mark.parametrize(
    ("device", "fstype", "mount", "pseudo"),
    [
        ("/dev/sda2", "ext4", "/", False),
        ("/dev/nvme0n1p1", "vfat", "/boot/efi", False),
        ("/dev/md0", "xfs", "/raid", False),
        ("/dev/sdb1", "ext4", "/run/media/alice/USB", False),
        ("proc", "proc", "/proc", True),
        ("sysfs", "sysfs", "/sys", True),
        ("tmpfs", "tmpfs", "/run", True),
        ("udev", "devtmpfs", "/dev", True),
        ("overlay", "overlay", "/var/lib/docker/overlay2/x/merged", True),
        ("/dev/loop3", "squashfs", "/snap/core/7396", True),
        ("/dev/loop3", None, "/snap/core/7396", True),
        ("/dev/loop9", "ext4", "/mnt/image", False),
        ("/dev/loop2", None, "/mnt/iso", False),
        ("cgroup2", "cgroup2", "/sys/fs/cgroup", True),
        ("nsfs", "nsfs", "/run/docker/netns/default", True),
        ("systemd-1", "autofs", "/proc/sys/fs/binfmt_misc", True),
        ("lxcfs", "fuse.lxcfs", "/var/lib/lxcfs", True),
        ("portal", "fuse.portal", "/run/user/1000/doc", True),
        ("/dev/sdc1", "fuseblk", "/mnt/windows", False),
        ("udev", None, "/dev", True),
        ("tmpfs", "", "/dev/shm", True),
        ("shm", None, "/var/lib/docker/containers/x/mounts/shm", True),
        ("map auto_home", None, "/home", True),
    ],
)
def test_is_pseudo_filesystem(device: str, fstype: str | None, mount: str, pseudo: bool) -> None:
    assert is_pseudo_filesystem(device, fstype, mount) is pseudo


@pytest.mark.parametrize(
    ("device", "fstype", "network"),
    [
        ("nas:/export/home", "nfs4", True),
        ("nas:/export/home", None, True),
        ("//server/share", "cifs", True),
        ("//brazil@MyCloudEX2Ultra._afpovertcp._tcp.local/brazil", None, True),
        ("alice@host:/data", "fuse.sshfs", True),
        ("/dev/sda1", "ext4", False),
        ("/dev/mapper/centos-root", None, False),
    ],
)
def test_is_network_filesystem(device: str, fstype: str | None, network: bool) -> None:
    assert is_network_filesystem(device, fstype) is network


def test_bind_mounts_of_one_device_count_once() -> None:
    text = (
        "Filesystem           Type       1-blocks       Used Available Capacity Mounted on\n"
        "/dev/vda             ext4       270553174016 23720951808 85223342080  22% /var/lib/x\n"
        "/dev/vda             ext4       270553174016 23720951808 85223342080  22% /\n"
        "/dev/vdb             ext4       1000 10 990   1% /data\n"
    )
    assert [(d.device, d.mount) for d in local_disks(parse_df(text))] == [
        ("/dev/vda", "/"),
        ("/dev/vdb", "/data"),
    ]


def test_zero_size_filesystems_are_not_local_disks() -> None:
    empty = Disk(mount="/mnt/x", device="/dev/sdz1", fstype="ext4", total=0, used=0, available=0)
    assert local_disks([empty]) == []


@pytest.mark.parametrize("command", [["df"], ["busybox", "df"]])
def test_this_machines_df_matches_statvfs(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        pytest.skip(f"{command[0]} not installed")
    run = subprocess.run(
        [*command, "-P", "-T", "-B1", "/"], capture_output=True, text=True, timeout=20, check=True
    )
    (root,) = parse_df(run.stdout)
    stat = os.statvfs("/")
    assert root.mount == "/"
    assert root.total == stat.f_blocks * stat.f_frsize
    assert root.fstype and not is_pseudo_filesystem(root.device, root.fstype, root.mount)
    inodes = subprocess.run(
        [*command, "-P", "-i", "/"], capture_output=True, text=True, timeout=20, check=True
    )
    assert parse_df_inodes(inodes.stdout)["/"][0] == stat.f_files
