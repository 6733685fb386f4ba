"""/proc parsers on the real captures, on this machine's own /proc, and on edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.model import Cpu, Memory
from clustertop.parsers.procfs import (
    CpuSample,
    container_id_from_cgroup,
    cpu_between,
    parse_loadavg,
    parse_meminfo,
    parse_proc_stat,
    parse_uptime,
)
from tests.parsers._fixtures import read_fixture

KIB = 1024
ID = "7946b2b276c95cba589b044b60a90d3bac07eabd4cbb0a21b56808c1f644dab5"


@pytest.mark.parametrize(
    ("name", "load"),
    [("loadavg-jc.txt", (0.00, 0.01, 0.03)), ("loadavg-node-exporter.txt", (0.21, 0.37, 0.39))],
)
def test_loadavg_captures(name: str, load: tuple[float, float, float]) -> None:
    assert parse_loadavg(read_fixture(f"proc/{name}")) == load


@pytest.mark.parametrize("text", ["", "0.1 0.2", "a b c 1/2 3"])
def test_loadavg_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_loadavg(text)


def test_meminfo_modern_kernel_uses_memavailable() -> None:
    memory = parse_meminfo(read_fixture("proc/meminfo-jc.txt"))
    assert memory == Memory(
        total=3997272 * KIB,
        used=(3997272 - 3386876) * KIB,
        available=3386876 * KIB,
        swap_total=3996668 * KIB,
        swap_used=0,
    )


def test_meminfo_old_kernel_estimates_available() -> None:
    memory = parse_meminfo(read_fixture("proc/meminfo-node-exporter.txt"))
    estimate = (225472 + 22040 + 930888 + 44772) * KIB  # MemFree+Buffers+Cached+SReclaimable
    assert memory.available == estimate
    assert memory.used == 3742148 * KIB - estimate
    assert (memory.swap_total, memory.swap_used) == (4194300 * KIB, (4194300 - 3155360) * KIB)


def test_meminfo_without_swap_lines_and_garbage() -> None:
    memory = parse_meminfo("MemTotal: 1000 kB\nMemAvailable: 250 kB\n")
    assert (memory.used, memory.swap_total, memory.swap_used) == (750 * KIB, None, None)
    with pytest.raises(ValueError):
        parse_meminfo("MemFree: 1 kB\n")


def test_uptime() -> None:
    assert parse_uptime("350735.47 234388.90\n") == 350735.47
    with pytest.raises(ValueError):
        parse_uptime("")


def test_proc_stat_captures() -> None:
    eight = parse_proc_stat(read_fixture("proc/stat-8cpu-node-exporter.txt"))
    assert eight == CpuSample(301854, 612, 111922, 8979004, 3552, 2, 3944, 0, count=8)
    two = parse_proc_stat(read_fixture("proc/stat-2cpu-jc.txt"))
    assert two == CpuSample(6002, 152, 8398, 3444436, 448, 0, 1174, 0, count=2)


def test_aggregate_line_alone_and_old_kernel_columns() -> None:
    assert parse_proc_stat("cpu  10 0 5 85 0 0 0 0 0 0\n").count is None
    assert parse_proc_stat("cpu 1 2 3 4\ncpu0 1 2 3 4\n") == CpuSample(1, 2, 3, 4, count=1)
    with pytest.raises(ValueError):
        parse_proc_stat("intr 1 2 3\n")


def test_cpu_between_two_readings() -> None:
    prev = parse_proc_stat(read_fixture("proc/stat-8cpu-node-exporter.txt"))
    # +100 user, +50 system, +800 idle, +50 iowait: 1000 jiffies in all.
    cur = parse_proc_stat("cpu  301954 612 111972 8979804 3602 2 3944 0 0 0\n")
    assert cpu_between(prev, cur) == Cpu(
        percent=15.0, user_percent=10.0, system_percent=5.0, iowait_percent=5.0, count=None
    )


def test_cpu_between_counts_nice_as_user_and_irq_as_system() -> None:
    prev = CpuSample(0, 0, 0, 0, 0, 0, 0, 0, count=4)
    cur = CpuSample(10, 10, 10, 50, 0, 10, 10, 0, count=4)
    assert cpu_between(prev, cur) == Cpu(50.0, 20.0, 30.0, 0.0, count=4)


def test_no_interval_or_reboot_gives_none_not_zero() -> None:
    sample = parse_proc_stat(read_fixture("proc/stat-2cpu-jc.txt"))
    assert cpu_between(sample, sample) == Cpu(None, None, None, None, count=2)
    rebooted = CpuSample(5, 0, 5, 100, count=2)
    assert cpu_between(sample, rebooted) == Cpu(None, None, None, None, count=2)


def test_iowait_going_backwards_only_hides_iowait() -> None:
    prev = CpuSample(100, 0, 100, 1000, 50, 0, 0, 0)
    cur = CpuSample(150, 0, 150, 1100, 45, 0, 0, 0)  # iowait -5 (a known kernel quirk)
    cpu = cpu_between(prev, cur)
    assert cpu.iowait_percent is None
    assert (cpu.percent, cpu.user_percent, cpu.system_percent) == (50.0, 25.0, 25.0)


def test_this_machines_proc_files_parse() -> None:
    proc = Path("/proc")
    if not (proc / "stat").is_file():
        pytest.skip("no /proc here")
    sample = parse_proc_stat((proc / "stat").read_text())
    assert sample.count is not None and sample.count >= 1
    memory = parse_meminfo((proc / "meminfo").read_text())
    assert 0 <= memory.used <= memory.total
    assert parse_uptime((proc / "uptime").read_text()) > 0
    assert len(parse_loadavg((proc / "loadavg").read_text())) == 3


@pytest.mark.parametrize(
    "text",
    [
        f"12:devices:/docker/{ID}\n4:memory:/docker/{ID}\n0::/\n",
        f"0::/system.slice/docker-{ID}.scope\n",
        f"11:cpu,cpuacct:/system.slice/docker-{ID}.scope\n",
        f"5:pids:/custom-parent/docker/{ID}\n",
        f"3:cpuset:/kubepods/burstable/pod1234-abcd/docker-{ID}.scope\n",
        f"9:memory:/kubepods/besteffort/podf00/{ID}\n",
        f"0::/docker/{ID}/init.scope\n",
        f"1:name=systemd:/docker/{ID}/docker/{'e' * 64}\n",
    ],
)
def test_container_id_from_cgroup(text: str) -> None:
    assert container_id_from_cgroup(text) == ID


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0::/\n",
        "0::/user.slice/user-1000.slice/session-2.scope\n",
        "4:memory:/system.slice/docker.service\n",
        f"0::/machine.slice/libpod-{ID}.scope\n",  # podman, not Docker
        f"0::/docker/{ID[:-1]}\n",  # 63 hex digits
        f"0::/docker/{ID}x\n",
        "garbage without colons",
    ],
)
def test_host_and_non_docker_processes_have_no_container(text: str) -> None:
    assert container_id_from_cgroup(text) is None
