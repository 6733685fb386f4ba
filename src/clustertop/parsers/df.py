"""Parsers for `df` output (POSIX, GNU, BusyBox, macOS) and which filesystems are real disks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from clustertop.model import Disk

GNU_OUTPUT_COLUMNS = "source,fstype,size,used,avail,pcent,iused,iavail,ipcent,target"
"""`df --output=` columns for sizes and inodes in one GNU df run, laid out as parse_df reads."""

_UNIT_POWERS = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6, "Z": 7, "Y": 8}
_BLOCKS = re.compile(r"^(\d+)([KMGTPEZY]?)(B|iB)?-blocks$", re.IGNORECASE)
_HUMAN = re.compile(r"^(\d+(?:[.,]\d+)?)([KMGTPEZY]?)(?:i?B)?$", re.IGNORECASE)
_NUM = r"-|-?\d+"
_HUMAN_NUM = r"-|\d+(?:[.,]\d+)?[KMGTPEZYkmgtpezy]?(?:i?B)?"


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column layout of one df output, read from its header."""

    has_type: bool
    """A Type column follows Filesystem (`-T`)."""
    block_size: int | None
    """Bytes per block; None for human-readable sizes (`-h`)."""
    inode_columns: bool
    """Inode used/free/% columns follow the capacity column (BSD/macOS `iused ifree %iused`,
    GNU `--output=...,pcent,iused,iavail,ipcent,target`)."""
    row: re.Pattern[str]
    """Regex for one data row."""


def _block_size(column: str) -> int | None:
    """'1K-blocks'/'1024-blocks' -> 1024, '1-blocks'/'1B-blocks' -> 1, '1KB-blocks' -> 1000."""
    match = _BLOCKS.match(column)
    if not match:
        return None
    count, prefix, suffix = match.group(1), match.group(2).upper(), (match.group(3) or "")
    base = 1000 if suffix.upper() == "B" and prefix else 1024
    size: int = int(count) * base ** _UNIT_POWERS[prefix]
    return size


def _layout(header: str, inodes: bool) -> _Layout:
    columns = header.split()
    if len(columns) < 6 or columns[0] != "Filesystem":
        raise ValueError(f"not a df header: {header[:80]!r}")
    has_type = columns[1] == "Type"
    size_column = columns[2 if has_type else 1]
    if (size_column == "Inodes") != inodes:
        raise ValueError(f"df output {'without' if inodes else 'with'} inode columns: {header!r}")
    human = size_column in ("Size", "Inodes")
    block_size = 1 if size_column == "Inodes" else _block_size(size_column)
    if block_size is None and not human:
        raise ValueError(f"unknown df size column {size_column!r}")
    inode_columns = not inodes and "iused" in (column.lower() for column in columns)
    number = _HUMAN_NUM if size_column == "Size" else _NUM
    pattern = (
        r"^(?P<device>\S.*?)\s+"
        + (r"(?P<fstype>\S+)\s+" if has_type else "")
        + rf"(?P<total>{number})\s+(?P<used>{number})\s+(?P<avail>{number})\s+(?:\d+%|-)"
        + (r"\s+(?P<iused>-|\d+)\s+(?P<ifree>-|\d+)\s+(?:\d+%|-)" if inode_columns else "")
        + r"\s+(?P<mount>\S.*)$"
    )
    size = None if size_column == "Size" else block_size
    return _Layout(has_type, size, inode_columns, re.compile(pattern))


def _human_bytes(cell: str) -> int:
    """'1.9G' -> about 1.9 GiB (df -h rounds, so +-5%); '0' -> 0."""
    match = _HUMAN.match(cell)
    if not match:
        return 0
    value = float(match.group(1).replace(",", "."))
    scale: int = 1024 ** _UNIT_POWERS[match.group(2).upper()]
    return round(value * scale)


def _size(cell: str, block_size: int | None) -> int:
    if cell == "-":
        return 0
    if block_size is None:
        return _human_bytes(cell)
    return max(int(cell), 0) * block_size  # negative Avail: nothing left for users


def _rows(text: str, inodes: bool) -> Iterator[tuple[_Layout, re.Match[str]]]:
    """Matched data rows; a device name wrapped onto its own line is joined to the next."""
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines:
        return
    layout = _layout(lines[0], inodes)
    pending: str | None = None
    for line in lines[1:]:
        candidate = line if pending is None else f"{pending} {line.strip()}"
        match = layout.row.match(candidate)
        if match:
            pending = None
            yield layout, match
        else:
            # Non-POSIX df prints an over-long device alone, numbers on the next line.
            pending = line.strip() if len(line.split()) <= 2 else None


def parse_df(text: str) -> list[Disk]:
    """Filesystems from df output, sizes in bytes; blank text -> [], not df -> ValueError.

    The header gives the unit (1-blocks/1B-blocks from `df -P -T -B1`, 1K-blocks, 1024-blocks,
    512-blocks), whether a Type column exists (fstype is "" without one) and whether inode
    columns follow the capacity (BSD `df -i`, GNU `--output`; no inode accounting -> None).
    The mount point is everything after the capacity column, spaces included. Human output
    (`df -h`, "Size") is read approximately, as powers of 1024 of its rounded figures.
    """
    disks: list[Disk] = []
    for layout, match in _rows(text, inodes=False):
        inodes_total = inodes_used = None
        if layout.inode_columns:
            iused, ifree = match.group("iused"), match.group("ifree")
            if iused.isdigit() and ifree.isdigit() and int(iused) + int(ifree) > 0:
                inodes_used = int(iused)
                inodes_total = inodes_used + int(ifree)
        disks.append(
            Disk(
                mount=match.group("mount"),
                device=match.group("device"),
                fstype=(match.group("fstype") or "") if layout.has_type else "",
                total=_size(match.group("total"), layout.block_size),
                used=_size(match.group("used"), layout.block_size),
                available=_size(match.group("avail"), layout.block_size),
                inodes_total=inodes_total,
                inodes_used=inodes_used,
            )
        )
    return disks


def parse_df_inodes(text: str) -> dict[str, tuple[int, int]]:
    """`df -P -i` (GNU or BusyBox) -> {mount: (inodes total, inodes used)}.

    Filesystems without inode accounting (btrfs, vfat: 0 or '-') are left out.
    """
    inodes: dict[str, tuple[int, int]] = {}
    for _, match in _rows(text, inodes=True):
        total, used = match.group("total"), match.group("used")
        if total.isdigit() and used.isdigit() and int(total) > 0:
            inodes[match.group("mount")] = (int(total), int(used))
    return inodes


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_PSEUDO_TYPES = _words(
    "proc sysfs tmpfs devtmpfs devfs overlay overlayfs aufs squashfs cgroup cgroup2 nsfs "
    "autofs devpts mqueue debugfs tracefs securityfs pstore bpf configfs fusectl "
    "hugetlbfs binfmt_misc efivarfs rpc_pipefs nfsd ramfs selinuxfs shm none rootfs "
    "fuse.lxcfs fuse.gvfsd-fuse fuse.gvfs-fuse-daemon fuse.portal fuse.snapfuse "
    "fuse.squashfuse fuse.kio-fuse fuse.xdg-document-portal fuse.appimagefuse"
)
# Without a Type column, these device names give the type away.
_PSEUDO_DEVICES = _words(
    "proc sysfs tmpfs devtmpfs udev devfs overlay none cgroup cgroup2 shm shmfs run lxcfs portal"
)
_PSEUDO_MOUNT_PREFIXES = ("/proc/", "/sys/", "/dev/", "/snap/", "/run/user/", "/run/lock")
_NETWORK_TYPES = _words(
    "nfs nfs4 cifs smbfs smb3 ncpfs afs 9p ceph glusterfs lustre gpfs beegfs fuse.sshfs "
    "fuse.glusterfs fuse.ceph fuse.s3fs fuse.rclone fuse.davfs2 davfs fuse.gcsfuse"
)


def is_pseudo_filesystem(device: str, fstype: str | None, mount: str) -> bool:
    """True for filesystems that hold no user data on a disk of this host.

    proc, sysfs, tmpfs, overlay (container roots), squashfs (snaps), cgroup, autofs maps,
    desktop/container fuse helpers (lxcfs, portal, gvfs), and anything mounted under /proc,
    /sys, /dev or /snap (snap loop mounts). Zero-size filesystems are caught by local_disks.
    """
    kind = (fstype or "").lower()
    if kind in _PSEUDO_TYPES:
        return True
    if not kind and (device in _PSEUDO_DEVICES or device.startswith("map ")):
        return True  # "map auto_home": macOS automounter
    return mount in ("/proc", "/sys", "/dev") or mount.startswith(_PSEUDO_MOUNT_PREFIXES)


def is_network_filesystem(device: str, fstype: str | None) -> bool:
    """True for NFS, SMB, sshfs, cluster filesystems: shared, so not one host's own disk."""
    kind = (fstype or "").lower()
    if kind in _NETWORK_TYPES:
        return True
    return not kind and (device.startswith("//") or re.match(r"^[\w.-]+:/", device) is not None)


def local_disks(disks: Iterable[Disk]) -> list[Disk]:
    """The host's own disks: no pseudo, network or zero-size filesystems, each device once.

    A device mounted more than once (bind mounts, e.g. a Docker data root; BusyBox df lists
    them all) keeps its shortest mount point, as GNU df does.
    """
    real = [
        disk
        for disk in disks
        if disk.total > 0
        and not is_pseudo_filesystem(disk.device, disk.fstype, disk.mount)
        and not is_network_filesystem(disk.device, disk.fstype)
    ]
    shortest: dict[str, Disk] = {}
    for disk in real:
        kept = shortest.get(disk.device)
        if kept is None or len(disk.mount) < len(kept.mount):
            shortest[disk.device] = disk
    return [disk for disk in real if shortest[disk.device] is disk]
