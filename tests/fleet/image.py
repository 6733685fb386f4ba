"""A tiny busybox root file system, as a tar stream for `docker import` (no registry here)."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

IMAGE = "ctbox:latest"
"""Name of the image every fleet engine gets."""

_ETC_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/hostname": "ctbox\n",
}


def busybox_path() -> Path | None:
    """The static busybox binary to copy, or None when busybox-static is missing."""
    for candidate in ("/bin/busybox", "/usr/bin/busybox"):
        if Path(candidate).is_file():
            return Path(candidate)
    found = shutil.which("busybox")
    return Path(found) if found else None


def _applets(busybox: Path) -> list[str]:
    out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True)
    return sorted({name for name in out.stdout.split() if name and "/" not in name})


def _add_dir(tar: tarfile.TarFile, name: str, mode: int, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.mtime = int(mtime)
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = int(mtime)
    tar.addfile(info, io.BytesIO(data))


def _add_link(tar: tarfile.TarFile, name: str, target: str, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    info.mode = 0o777
    info.mtime = int(mtime)
    tar.addfile(info)


@functools.lru_cache(maxsize=1)
def rootfs_tar() -> bytes:
    """The image's file system: /bin/busybox, one symlink per applet, a minimal /etc."""
    busybox = busybox_path()
    if busybox is None:
        raise FileNotFoundError("busybox not found (Debian package busybox-static)")
    now = time.time()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
            _add_dir(tar, name, mode, now)
        _add_bytes(tar, "bin/busybox", busybox.read_bytes(), 0o755, now)
        for applet in _applets(busybox):
            if applet != "busybox":
                _add_link(tar, f"bin/{applet}", "busybox", now)
        for name, text in _ETC_FILES.items():
            _add_bytes(tar, name, text.encode(), 0o644, now)
    return buf.getvalue()
