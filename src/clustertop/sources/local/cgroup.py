"""Container CPU time and memory read from cgroup files (v1 and v2): no docker stats wait."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(frozen=True, slots=True)
class CgroupMounts:
    """Where the cgroup hierarchies are mounted in this mount namespace."""

    v1: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Controller name -> (mount point, root of the hierarchy the mount shows)."""
    v2: tuple[str, str] | None = None
    """(mount point, root) of the unified hierarchy."""


@dataclass(frozen=True, slots=True)
class CgroupUsage:
    """One reading of a cgroup's counters."""

    cpu_ns: int | None
    """CPU time used since the cgroup was created, in nanoseconds."""
    memory: int | None
    """Bytes in use without inactive page cache (what docker stats shows)."""


def _unescape(text: str) -> str:
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), text)


def parse_mountinfo(text: str) -> CgroupMounts:
    """Cgroup mounts from /proc/self/mountinfo text."""
    v1: dict[str, tuple[str, str]] = {}
    v2: tuple[str, str] | None = None
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or len(tail) < 3:
            continue
        where = (_unescape(fields[4]), _unescape(fields[3]))
        if tail[0] == "cgroup2" and v2 is None:
            v2 = where
        elif tail[0] == "cgroup":
            for option in tail[2].split(","):
                v1.setdefault(option, where)
    return CgroupMounts(v1, v2)


def parse_proc_cgroup(text: str) -> dict[str, str]:
    """/proc/<pid>/cgroup -> {controller: path}; the v2 path is under the key ""."""
    paths: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            paths.setdefault(controller, path)
    return paths


def cgroup_dir(where: tuple[str, str], path: str) -> str:
    """The directory of a cgroup path under a mount that shows the hierarchy from `root`."""
    mount_point, root = where
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root) :]
    return mount_point.rstrip("/") + "/" + path.lstrip("/")


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _stat_value(text: str | None, key: str) -> int | None:
    for line in (text or "").splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return None


def _int(text: str | None) -> int | None:
    value = (text or "").strip()
    return int(value) if value.isdigit() else None


def _cpu_ns(mounts: CgroupMounts, paths: Mapping[str, str]) -> int | None:
    if "cpuacct" in paths and "cpuacct" in mounts.v1:
        base = cgroup_dir(mounts.v1["cpuacct"], paths["cpuacct"])
        value = _int(_read(f"{base}/cpuacct.usage"))
        if value is not None:
            return value
    if "" in paths and mounts.v2 is not None:
        usec = _stat_value(_read(f"{cgroup_dir(mounts.v2, paths[''])}/cpu.stat"), "usage_usec")
        return usec * 1000 if usec is not None else None
    return None


def _memory(mounts: CgroupMounts, paths: Mapping[str, str]) -> int | None:
    # Same arithmetic as the docker CLI: usage minus inactive file cache.
    if "memory" in paths and "memory" in mounts.v1:
        base = cgroup_dir(mounts.v1["memory"], paths["memory"])
        usage = _int(_read(f"{base}/memory.usage_in_bytes"))
        if usage is not None:
            inactive = _stat_value(_read(f"{base}/memory.stat"), "total_inactive_file") or 0
            return max(0, usage - inactive)
    if "" in paths and mounts.v2 is not None:
        base = cgroup_dir(mounts.v2, paths[""])
        usage = _int(_read(f"{base}/memory.current"))
        if usage is not None:
            inactive = _stat_value(_read(f"{base}/memory.stat"), "inactive_file") or 0
            return max(0, usage - inactive)
    return None


def read_usage(mounts: CgroupMounts, proc_cgroup_text: str) -> CgroupUsage:
    """CPU time and memory of the cgroup a process's /proc/<pid>/cgroup names."""
    paths = parse_proc_cgroup(proc_cgroup_text)
    return CgroupUsage(_cpu_ns(mounts, paths), _memory(mounts, paths))


def local_cgroup_mounts() -> CgroupMounts:
    """This process's view of the cgroup mounts (empty when /proc is unreadable)."""
    text = _read("/proc/self/mountinfo")
    return parse_mountinfo(text) if text is not None else CgroupMounts()
