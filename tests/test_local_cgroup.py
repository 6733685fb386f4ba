"""Container CPU time and memory from cgroup files: real mountinfo lines and file layouts."""

from __future__ import annotations

from pathlib import Path

from clustertop.sources.local.cgroup import (
    CgroupMounts,
    cgroup_dir,
    local_cgroup_mounts,
    parse_mountinfo,
    parse_proc_cgroup,
    read_usage,
)

CID = "7946b2b276c95cba589b044b60a90d3bac07eabd4cbb0a21b56808c1f644dab5"

# Lines as /proc/self/mountinfo shows them on a Debian host with hybrid cgroups.
MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

PROC_CGROUP_V1 = f"""\
9:name=systemd:/docker/{CID}
4:memory:/docker/{CID}
2:cpu,cpuacct:/docker/{CID}
0::/docker/{CID}
"""


def test_mountinfo_maps_each_v1_controller_and_the_unified_hierarchy() -> None:
    mounts = parse_mountinfo(MOUNTINFO)

    assert mounts.v1["cpuacct"] == ("/sys/fs/cgroup/cpu,cpuacct", "/")
    assert mounts.v1["cpu"] == ("/sys/fs/cgroup/cpu,cpuacct", "/")
    assert mounts.v1["memory"] == ("/sys/fs/cgroup/memory", "/")
    assert mounts.v2 == ("/sys/fs/cgroup/unified", "/")
    assert "mode=755" not in mounts.v1  # the tmpfs is not a cgroup mount


def test_proc_cgroup_paths_by_controller() -> None:
    paths = parse_proc_cgroup(PROC_CGROUP_V1)

    assert paths["cpuacct"] == paths["cpu"] == paths["memory"] == f"/docker/{CID}"
    assert paths[""] == f"/docker/{CID}"
    assert paths["name=systemd"] == f"/docker/{CID}"


def test_a_mount_of_a_sub_hierarchy_is_stripped_from_the_path() -> None:
    # Inside a cgroup namespace the mount shows /docker/<id> as its root.
    assert cgroup_dir(("/sys/fs/cgroup", f"/docker/{CID}"), f"/docker/{CID}/inner") == (
        "/sys/fs/cgroup/inner"
    )
    memory = ("/sys/fs/cgroup/memory", "/")
    assert cgroup_dir(memory, "/docker/x") == "/sys/fs/cgroup/memory/docker/x"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_v1_usage_is_cpuacct_and_memory_without_inactive_file(tmp_path: Path) -> None:
    base = f"docker/{CID}"
    _write(tmp_path / "cpuacct" / base / "cpuacct.usage", "478480293143\n")
    _write(tmp_path / "memory" / base / "memory.usage_in_bytes", "335872\n")
    _write(
        tmp_path / "memory" / base / "memory.stat",
        "cache 4096\ninactive_file 4096\ntotal_cache 8192\ntotal_inactive_file 8192\n",
    )
    mounts = CgroupMounts(
        v1={"cpuacct": (str(tmp_path / "cpuacct"), "/"), "memory": (str(tmp_path / "memory"), "/")}
    )

    usage = read_usage(mounts, PROC_CGROUP_V1)

    assert usage.cpu_ns == 478480293143
    assert usage.memory == 335872 - 8192


def test_v2_usage_is_cpu_stat_usage_usec_and_memory_current_without_inactive_file(
    tmp_path: Path,
) -> None:
    scope = tmp_path / "system.slice" / f"docker-{CID}.scope"
    _write(scope / "cpu.stat", "usage_usec 793193991\nuser_usec 792535056\nsystem_usec 658935\n")
    _write(scope / "memory.current", "10485760\n")
    _write(scope / "memory.stat", "anon 6291456\nfile 4194304\ninactive_file 1048576\n")
    mounts = CgroupMounts(v2=(str(tmp_path), "/"))

    usage = read_usage(mounts, f"0::/system.slice/docker-{CID}.scope\n")

    assert usage.cpu_ns == 793193991 * 1000
    assert usage.memory == 10485760 - 1048576


def test_missing_files_give_unknown_not_zero(tmp_path: Path) -> None:
    mounts = CgroupMounts(v1={"memory": (str(tmp_path), "/")}, v2=(str(tmp_path), "/"))

    usage = read_usage(mounts, PROC_CGROUP_V1)

    assert usage.cpu_ns is None and usage.memory is None


def test_this_machines_own_cgroup_counters_are_readable() -> None:
    mounts = local_cgroup_mounts()
    text = Path("/proc/self/cgroup").read_text()

    usage = read_usage(mounts, text)

    assert mounts.v1 or mounts.v2
    assert usage.cpu_ns is not None and usage.cpu_ns > 0
