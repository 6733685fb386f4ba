"""PromQL answers joined into one HostSnapshot per host (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from clustertop.model import Container, Cpu, Disk, HostSnapshot, HostState, Memory
from clustertop.model.fast import maker, replacer
from clustertop.model.owners import DEFAULT_RULE, OwnerRule, owner_of
from clustertop.sources.prometheus.client import Labels, PromError, TargetHealth
from clustertop.sources.prometheus.gpus import (
    GPU_QUERIES,
    BuiltGpus,
    build_gpus,
    gpu_workloads,
    workload_key,
)
from clustertop.sources.prometheus.grouping import group_hosts
from clustertop.sources.prometheus.hosts import HostData, host_key, strip_port
from clustertop.sources.prometheus.promql import (
    CONTAINER_QUERIES,
    DISK_QUERIES,
    NODE_NAMES,
    QUERIES,
    Answers,
    queries,
)

# The records of every host, made each reading (5,000 hosts: 40,000 Gpu, 5,000 of the rest).
_HOST, _CPU, _MEMORY, _DISK = maker(HostSnapshot), maker(Cpu), maker(Memory), maker(Disk)
_REPLACE = replacer(HostSnapshot)


def _cpu(host: HostData) -> Cpu | None:
    modes = host.cpu_modes
    total = sum(modes.values())
    get, count = modes.get, host.values.get("cpu_count")
    if not modes or total <= 0:
        # A large fleet's reading (but for the open host): idle + iowait alone (CPU_IDLE).
        idle = host.values.get("cpu_idle")
        if idle is None or not count:
            return None
        return _CPU(
            percent=min(100.0, max(0.0, 100.0 - 100.0 * idle / count)),
            user_percent=None,
            system_percent=None,
            count=int(count),
        )
    # Each share summed as sum() sums (from 0, in this order): the figures stay exactly so.
    return _CPU(
        percent=max(0.0, 100.0 - 100.0 * sum((get("idle", 0.0), get("iowait", 0.0))) / total),
        user_percent=100.0 * sum((get("user", 0.0), get("nice", 0.0))) / total,
        system_percent=100.0
        * sum((get("system", 0.0), get("irq", 0.0), get("softirq", 0.0)))
        / total,
        iowait_percent=100.0 * sum((get("iowait", 0.0),)) / total,
        count=int(count) if count else None,
    )


def _memory(values: dict[str, float]) -> Memory | None:
    total = values.get("mem_total")
    if total is None:
        return None
    available = values.get("mem_available")
    parts = [values.get(k) for k in ("mem_free", "mem_buffers", "mem_cached")]
    reclaimable = sum(p for p in parts if p is not None) if None not in parts else None
    unused = available if available is not None else reclaimable
    swap_total, swap_free = values.get("swap_total"), values.get("swap_free")
    return _MEMORY(
        total=int(total),
        used=int(total - unused) if unused is not None else 0,
        available=int(available) if available is not None else None,
        swap_total=int(swap_total) if swap_total is not None else None,
        swap_used=int(swap_total - swap_free) if None not in (swap_total, swap_free) else None,  # type: ignore[operator]
    )


def _disks(host: HostData) -> tuple[Disk, ...]:
    disks = []
    for (mount, device, fstype), got in sorted(host.disks.items()):
        size, avail, free = got.get("fs_size"), got.get("fs_avail"), got.get("fs_free")
        if size is None or avail is None or free is None:
            continue
        files, files_free = got.get("fs_files"), got.get("fs_files_free")
        inodes_used = (
            int(files - files_free) if files is not None and files_free is not None else None
        )
        disks.append(
            _DISK(mount, device, fstype, int(size), int(size - free), int(avail),
                 int(files) if files is not None else None, inodes_used)
        )  # fmt: skip
    return tuple(disks)


def _containers(
    host: HostData, rule: OwnerRule, working: list[Mapping[str, object]]
) -> tuple[Container, ...]:
    """cAdvisor's containers, with the GPUs dcgm-exporter attributes to the same pod; pods (or
    HPC jobs) holding GPUs that cAdvisor does not list are added."""
    workloads = gpu_workloads(working, rule) if working else {}
    found = []
    for cid, got in sorted(host.containers.items()):
        labels: Labels = got["labels"]  # type: ignore[assignment]
        name = labels.get("name") or labels.get("pod") or labels.get("container") or cid
        cpu, memory = got.get("ctr_cpu"), got.get("ctr_memory")
        key = workload_key(labels)
        gpu_use = workloads.pop(key, None) if key is not None else None
        found.append(
            Container(
                id=cid,
                name=name,
                image=labels.get("image", ""),
                state="running",
                status="running (cAdvisor)",
                cpu_percent=100.0 * cpu if isinstance(cpu, float) else None,
                memory_used=int(memory) if isinstance(memory, float) else None,
                gpus=gpu_use.gpus if gpu_use else (),
                owner=owner_of(labels=labels, container_name=name, rule=rule),
                gpu_memory_used=gpu_use.gpu_memory_used if gpu_use else None,
                mig=gpu_use.mig if gpu_use else (),
            )
        )
    return (*found, *workloads.values())


def _failed(answers: Answers, names: Iterable[str]) -> str | None:
    for name in names:
        answer = answers.get(name)
        if isinstance(answer, PromError):
            return f"query {name} failed: {answer}"
    return None


_SECTIONS = {"node": NODE_NAMES, "gpu": GPU_QUERIES, "ctr": CONTAINER_QUERIES,
             "disk": DISK_QUERIES}  # fmt: skip


def snapshot(
    name: str,
    host: HostData,
    failed: Mapping[str, str | None],
    now: float,
    rule: OwnerRule,
    *,
    built: BuiltGpus | None = None,
) -> HostSnapshot:
    """One host's snapshot from its filed series (its GPUs' records `built` when given)."""
    note = "".join(f"; {d}" for d in host.down)
    if not host.has_data:
        if host.down:
            return HostSnapshot(name, HostState.UNREACHABLE, now, error="; ".join(host.down))
        return HostSnapshot(
            name, HostState.ERROR, now, error="no series for this host in Prometheus"
        )
    values = host.values
    has_node = not values.keys().isdisjoint(NODE_NAMES) or bool(host.cpu_modes)
    if built is None:
        working: list[Mapping[str, object]] = []
        gpus = build_gpus(host.gpus, working)
    else:
        gpus, working = built
    boot = values.get("boot")
    load = tuple(values.get(k) for k in ("load1", "load5", "load15"))
    return _HOST(
        name=name,
        state=HostState.UP,
        time=now,
        data_time=now,
        hostname=name,
        cpu=_cpu(host),
        load=load if None not in load else None,  # type: ignore[arg-type]
        memory=_memory(values),
        uptime_s=now - boot if boot else None,
        system_error=failed["node"]
        or (None if has_node else f"no node_exporter series for this host{note}"),
        gpus=gpus,
        gpu_error=failed["gpu"]
        or (None if gpus else f"no NVIDIA GPU found in Prometheus (no dcgm-exporter series){note}"),
        containers=_containers(host, rule, working),
        docker_error=failed["ctr"],
        # No exporter has processes: an empty list, not an error flagging every host's row.
        disks=_disks(host),
        disks_error=failed["disk"]
        or (None if host.disks else f"no node_exporter filesystem series for this host{note}"),
    )


def section_failures(answers: Answers) -> dict[str, str | None]:
    """Each section's failed query (its message), or None."""
    return {section: _failed(answers, part) for section, part in _SECTIONS.items()}


def retimed(before: HostSnapshot, host: HostData, now: float) -> HostSnapshot:
    """`before`, as `snapshot` would make it again at `now` from the same `host` data: only
    the times and the uptime (now - boot) move on."""
    if before.state is not HostState.UP:
        return _REPLACE(before, time=now)
    boot = host.values.get("boot")
    return _REPLACE(before, time=now, data_time=now, uptime_s=now - boot if boot else None)


def assemble(
    answers: Answers,
    targets: Sequence[TargetHealth] | None,
    *,
    now: float,
    host_label: str = "instance",
    names: Sequence[str] | None = None,
    rule: OwnerRule = DEFAULT_RULE,
) -> list[HostSnapshot]:
    """One snapshot per host: `names` in that order, else every host found, sorted."""
    hosts = group_hosts(answers, targets, host_label)
    order = list(names) if names is not None else sorted(hosts)
    failed = section_failures(answers)
    return [snapshot(n, hosts.get(n) or HostData(), failed, now, rule) for n in order]


__all__ = [
    "QUERIES", "Answers", "HostData", "assemble", "host_key", "queries", "retimed",
    "section_failures", "snapshot", "strip_port",
]  # fmt: skip
