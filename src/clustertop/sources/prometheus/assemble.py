"""PromQL answers joined into one HostSnapshot per host (pure: no I/O)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from clustertop.model import Container, Cpu, Disk, HostSnapshot, HostState, Memory
from clustertop.model.fast import maker, replacer
from clustertop.model.owners import DEFAULT_RULE, OwnerRule, owner_of
from clustertop.sources.prometheus.client import Labels, PromError, Series, TargetHealth
from clustertop.sources.prometheus.gpus import (
    GPU_FB_TOTAL,
    GPU_INFO,
    GPU_LABELS,
    GPU_QUERIES,
    BuiltGpus,
    build_gpus,
    gpu_queries,
    gpu_workloads,
    workload_key,
)
from clustertop.sources.prometheus.hosts import (
    Filed,
    Filings,
    HostData,
    host_key,
    placer,
    strip_port,
)

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


def _group(answers: Answers, host_label: str, filings: Filings) -> dict[str, HostData]:
    """Each host's series; where each series' value went is noted in `filings` (a reading
    whose series have the same labels is then filed again in place: filing.refile)."""
    hosts: dict[str, HostData] = {}
    place = placer(host_label, hosts)
    for name, answer in answers.items():
        file_answer(name, answer, place, filings)
    return hosts


def file_answer(
    name: str, answer: object, place: Callable[[Labels], HostData], filings: Filings
) -> None:
    """One answer's series filed into their hosts (`place`), noted in `filings`. Answers of
    different sections (streamed.section) touch different parts of a host: only the order within
    a section matters (which label set a GPU, disk or container keeps)."""
    # One loop per answer with the query's kind decided once: this runs for every series.
    # Where a value went is noted in two lists (hosts, dicts): 200,000 tuples instead would
    # be as many objects more for the cyclic collector to go through.
    if name == "up" or not isinstance(answer, list):  # a failed query: its error
        return
    if name in GPU_NAMES:
        filings[name] = _file_gpus(name, answer, place)
        return
    owners: list[HostData | None] = []
    wheres: list[dict[str, Any] | None] = []
    own, put = owners.append, wheres.append
    keys: list[str] | str = name
    if name == "cpu_modes":
        keys = []
        key = keys.append
        for labels, value in answer:
            host = place(labels)
            mode = labels.get("mode", "")
            host.cpu_modes[mode] = value
            own(host)
            put(host.cpu_modes)
            key(mode)
    elif name in DISK_QUERIES:
        for labels, value in answer:
            where = (labels.get("mountpoint", ""), labels.get("device", ""),
                     labels.get("fstype", ""))  # fmt: skip
            host = place(labels)
            disk = host.disks.setdefault(where, {})
            disk[name] = value
            own(host)
            put(disk)
    elif name in CONTAINER_QUERIES:
        for labels, value in answer:
            host = place(labels)
            ctr = host.containers.setdefault(labels.get("id", ""), {"labels": labels})
            ctr[name] = value
            own(host)
            put(ctr)
    else:
        for labels, value in answer:
            host = place(labels)
            host.values[name] = value
            own(host)
            put(host.values)
    filings[name] = (owners, wheres, keys)


GPU_NAMES = frozenset((*GPU_QUERIES, GPU_LABELS, GPU_FB_TOTAL))
_KEPT = frozenset((GPU_LABELS, GPU_FB_TOTAL))


def _file_gpus(
    name: str, answer: list[Series], place: Callable[[Labels], HostData]
) -> Filed | None:
    kept, info, labelled = name in _KEPT, name == GPU_INFO, name in (GPU_INFO, GPU_LABELS)
    owners: list[HostData | None] = []
    wheres: list[dict[str, Any] | None] = []
    own, put = owners.append, wheres.append
    for labels, value in answer:
        host = place(labels)
        gpus = host.gpus
        key = labels.get("gpu", "") + "/" + labels.get("GPU_I_ID", "")
        gpu = gpus.get(key)
        if gpu is None:
            if kept:  # kept from before: only for a GPU this reading found
                own(None)
                put(None)
                continue
            # gpu_info has every label; the fields' own few serve if it failed.
            gpu = gpus[key] = {"labels": labels}
            if info:
                gpu["info"] = True
        elif labelled and "info" not in gpu:
            # This reading's gpu_info (its first series) wins; kept labels replace only the
            # fields'.
            gpu["labels"] = labels
            gpu["info" if info else "named"] = True
        if not labelled:
            gpu[name] = value
            own(host)
            put(gpu)
    return None if labelled else (owners, wheres, name)


def mark_down(
    hosts: dict[str, HostData],
    answers: Answers,
    targets: Sequence[TargetHealth] | None,
    label: str,
) -> None:
    """Note each failed scrape on its host: the target API's error, else `up == 0`."""
    if targets is not None:
        for target in targets:
            if not target.up:
                why = target.error or "scrape failed"
                where = f"{target.labels.get('job', '?')} {target.labels.get('instance', '?')}"
                hosts.setdefault(host_key(target.labels, label), HostData()).down.append(
                    f"target {where} down: {why}"
                )
        return
    up = answers.get("up")
    for labels, value in up if isinstance(up, list) else ():
        if value == 0:
            where = f"{labels.get('job', '?')} {labels.get('instance', '?')}"
            hosts.setdefault(host_key(labels, label), HostData()).down.append(
                f"target {where} down (up == 0)"
            )


# The records of every host, made each reading (5,000 hosts: 40,000 Gpu, 5,000 of the rest).
_HOST, _CPU, _MEMORY, _DISK = maker(HostSnapshot), maker(Cpu), maker(Memory), maker(Disk)
_REPLACE = replacer(HostSnapshot)


def _cpu(host: HostData) -> Cpu | None:
    modes = host.cpu_modes
    total = sum(modes.values())
    if not modes or total <= 0:
        return None

    get, count = modes.get, host.values.get("cpu_count")
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


def _failed(answers: Answers, names: Mapping[str, str]) -> str | None:
    for name in names:
        answer = answers.get(name)
        if isinstance(answer, PromError):
            return f"query {name} failed: {answer}"
    return None


_SECTIONS = {"node": NODE_QUERIES, "gpu": GPU_QUERIES, "ctr": CONTAINER_QUERIES,
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
    has_node = bool(values.keys() & NODE_QUERIES.keys()) or bool(host.cpu_modes)
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


def group_hosts(
    answers: Answers,
    targets: Sequence[TargetHealth] | None,
    host_label: str,
    filings: Filings | None = None,
) -> dict[str, HostData]:
    """Each host's series, filed (what one snapshot is made of, `now` aside); where each
    series went is noted in `filings` when given."""
    hosts = _group(answers, host_label, {} if filings is None else filings)
    mark_down(hosts, answers, targets, host_label)
    hosts.pop("", None)  # series with no host label at all cannot be placed
    return hosts


def unnamed(hosts: Mapping[str, HostData]) -> bool:
    """Whether a GPU found by its fields got no labels (neither gpu_info nor GPU_LABELS)."""
    return any(
        "named" not in gpu and "info" not in gpu
        for host in hosts.values()
        for gpu in host.gpus.values()
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
    "CONTAINER_QUERIES", "DISK_QUERIES", "GPU_NAMES", "QUERIES", "HostData", "assemble",
    "file_answer", "group_hosts", "host_key", "mark_down", "queries", "retimed",
    "section_failures", "snapshot", "strip_port", "unnamed",
]  # fmt: skip
