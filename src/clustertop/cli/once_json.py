"""Schema v2 JSON for `--once --json`: snapshots to plain dicts."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from clustertop.analysis.jobs import jobs_json, slurm_jobs
from clustertop.cli.attribution_json import attribution_json
from clustertop.cli.json_attrs import attrs
from clustertop.cli.json_netio import netio_json
from clustertop.cli.mig_json import mig_instance_json, mig_ref_json
from clustertop.model import Container, ContainerRef, Disk, Gpu, GpuProcess, HostSnapshot, Process

SCHEMA_VERSION = 2
"""Bumped on incompatible changes and on documented additions (2: vendor, MIG, per process an
`attribution` object, Slurm jobs, network, disk I/O and ports); new keys may appear any time;
see README."""


def _container_ref(ref: ContainerRef | None) -> dict[str, str] | None:
    return None if ref is None else {"id": ref.id, "name": ref.name}


def gpu_json(gpu: Gpu) -> dict[str, Any]:
    """One GPU."""
    return {
        **attrs(gpu, "index", "uuid", "name", "util_percent", "memory_used", "memory_total"),
        **attrs(gpu, "temperature_c", "power_w", "power_limit_w", "fan_percent"),
        **attrs(gpu, "memory_util_percent", "bus_id", "ecc_uncorrected", "mig_mode", "error"),
        "vendor": gpu.vendor,
        "mig_instances": [mig_instance_json(i) for i in gpu.mig_instances],
        "mig_error": gpu.mig_error,
        "reading_age_s": gpu.reading_age_s,
    }


def gpu_process_json(proc: GpuProcess) -> dict[str, Any]:
    """One GPU process."""
    return {
        **attrs(proc, "pid", "gpu_index", "gpu_uuid", "memory_used", "user", "command"),
        "container": _container_ref(proc.container),
        **attrs(proc, "owner", "start_time", "cpu_percent"),
        "mig": mig_ref_json(proc.mig),
        "attribution": attribution_json(proc.attribution),
    }


def container_json(container: Container, stale: bool = False) -> dict[str, Any]:
    """One container."""
    return {
        **attrs(container, "id", "name", "image", "state", "status", "cpu_percent", "memory_used"),
        "gpus": list(container.gpus),
        **attrs(container, "gpu_memory_used", "owner"),
        "labels": dict(container.labels),
        **attrs(container, "created", "started_at", "finished_at", "exit_code", "pid", "log_size"),
        "stale": stale,
        "mig": [[index, mig_ref_json(ref)] for index, ref in container.mig],
        **attrs(container, "engine", "rootless_user"),
    }


def process_json(proc: Process) -> dict[str, Any]:
    """One top process."""
    return {
        **attrs(proc, "pid", "user", "cpu_percent", "memory_percent", "memory_rss", "start_time"),
        "command": proc.command,
        "container": _container_ref(proc.container),
        "attribution": attribution_json(proc.attribution),
    }


def disk_json(disk: Disk) -> dict[str, Any]:
    """One filesystem."""
    return {
        **attrs(disk, "mount", "device", "fstype", "total", "used", "available", "percent"),
        **attrs(disk, "inodes_total", "inodes_used"),
    }


def host_json(snap: HostSnapshot, stale_ids: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One host entry of schema v2."""
    cpu = snap.cpu
    mem = snap.memory
    return {
        "name": snap.name,
        "state": snap.state.value,
        "error": snap.error,
        "latency_ms": snap.latency_ms,
        "hostname": snap.hostname,
        "data_time": snap.data_time,
        "cpu_percent": cpu.percent if cpu else None,
        "cpu": None
        if cpu is None
        else attrs(cpu, "percent", "user_percent", "system_percent", "iowait_percent", "count"),
        "load": list(snap.load) if snap.load is not None else None,
        "memory": None
        if mem is None
        else attrs(mem, "total", "used", "available", "swap_total", "swap_used"),
        "uptime_s": snap.uptime_s,
        "system_error": snap.system_error,
        "gpu_error": snap.gpu_error,
        "gpus": [gpu_json(g) for g in snap.gpus],
        "gpu_processes": [gpu_process_json(p) for p in snap.gpu_processes],
        "docker_error": snap.docker_error,
        "podman_error": snap.podman_error,
        "containers": [container_json(c, c.id in stale_ids) for c in snap.containers],
        "processes_error": snap.processes_error,
        "processes": [process_json(p) for p in snap.processes],
        "disks_error": snap.disks_error,
        "disks": [disk_json(d) for d in snap.disks],
        "stale_sections": {str(k): round(v, 1) for k, v in snap.stale.items()},
        **netio_json(snap),
        "slurm_jobs": jobs_json(slurm_jobs(snap)),
        "slurmd": snap.slurm is not None,
        "slurm_error": snap.slurm.error if snap.slurm is not None else None,
    }


def document(
    snapshots: Iterable[HostSnapshot],
    *,
    now: float | None = None,
    stale_ids: Mapping[str, frozenset[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole `--once --json` document."""
    stale_ids = stale_ids or {}
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "time": time.time() if now is None else now,
        "hosts": [host_json(s, stale_ids.get(s.name, frozenset())) for s in snapshots],
    }
    if extra:
        doc.update(extra)
    return doc
