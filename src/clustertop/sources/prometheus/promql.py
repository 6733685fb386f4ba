"""The instant queries of one reading (node_exporter, cAdvisor; dcgm-exporter's from gpus.py)."""

from __future__ import annotations

from collections.abc import Mapping

from clustertop.sources.prometheus.client import PromError, Series
from clustertop.sources.prometheus.gpus import gpu_queries

_FS = 'fstype!~"tmpfs|devtmpfs|ramfs|squashfs|nsfs|autofs|proc|sysfs|fuse\\\\..*"'
NODE_QUERIES = {
    "load1": "node_load1",
    "load5": "node_load5",
    "load15": "node_load15",
    "mem_total": "node_memory_MemTotal_bytes",
    "mem_available": "node_memory_MemAvailable_bytes",
    # Kernels before 3.14 have no MemAvailable: then used = total - free - buffers - cached.
    "mem_free": "node_memory_MemFree_bytes",
    "mem_buffers": "node_memory_Buffers_bytes",
    "mem_cached": "node_memory_Cached_bytes",
    "swap_total": "node_memory_SwapTotal_bytes",
    "swap_free": "node_memory_SwapFree_bytes",
    "boot": "node_boot_time_seconds",
    # irate: the last two samples, whatever the scrape interval (up to the 5 m window).
    "cpu_modes": "sum without (cpu) (irate(node_cpu_seconds_total[5m]))",
    "cpu_count": 'count without (cpu, mode) (node_cpu_seconds_total{mode="idle"})',
}
CPU_IDLE = {
    "cpu_idle": 'sum without (cpu, mode) (irate(node_cpu_seconds_total{mode=~"idle|iowait"}[5m]))',
}
"""A large fleet's CPU query: the idle and iowait seconds per second of all CPUs, one series per
host. The busy share (the grid's CPU) is 1 - that / cpu_count; the user and system shares are
asked for the open host alone. It selects 2 of node_exporter's 8 modes (4x fewer series than
cpu_modes at any CPU count; at 5,000 x 4 CPUs x 4 modes 0.57-0.79 -> 0.33-0.38 s of
Prometheus's CPU)."""
NODE_NAMES = (*NODE_QUERIES, *CPU_IDLE)
"""The queries whose failure is the node section's (a reading asks cpu_modes or cpu_idle)."""
DISK_QUERIES = {
    "fs_size": f"node_filesystem_size_bytes{{{_FS}}}",
    "fs_avail": f"node_filesystem_avail_bytes{{{_FS}}}",
    "fs_free": f"node_filesystem_free_bytes{{{_FS}}}",
    "fs_files": f"node_filesystem_files{{{_FS}}}",
    "fs_files_free": f"node_filesystem_files_free{{{_FS}}}",
}
CONTAINER_QUERIES = {
    "ctr_memory": 'container_memory_working_set_bytes{pod!=""} '
    'or container_memory_working_set_bytes{name!=""}',
    "ctr_cpu": 'irate(container_cpu_usage_seconds_total{pod!=""}[5m]) '
    'or irate(container_cpu_usage_seconds_total{name!=""}[5m])',
}


def queries(host_label: str) -> dict[str, str]:
    """Every instant query of one reading, by name."""
    gpus = gpu_queries(host_label)
    return {"up": "up", **NODE_QUERIES, **DISK_QUERIES, **gpus, **CONTAINER_QUERIES}


QUERIES = queries("instance")
"""Every instant query of one reading, by name (for the default host label)."""

Answers = Mapping[str, "list[Series] | PromError"]
"""Each query's series, or why it failed."""


__all__ = [
    "CONTAINER_QUERIES", "CPU_IDLE", "DISK_QUERIES", "NODE_NAMES", "NODE_QUERIES", "QUERIES",
    "Answers", "queries",
]  # fmt: skip
