"""A reading's answers filed host by host (HostData), and the hosts whose scrape failed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from clustertop.sources.prometheus.client import Labels, Series, TargetHealth
from clustertop.sources.prometheus.gpus import GPU_FB_TOTAL, GPU_INFO, GPU_LABELS, GPU_QUERIES
from clustertop.sources.prometheus.hosts import Filed, Filings, HostData, host_key, placer
from clustertop.sources.prometheus.promql import CONTAINER_QUERIES, DISK_QUERIES, Answers


def _group(
    answers: Answers, host_label: str, filings: Filings, seen: dict[str, str] | None = None
) -> dict[str, HostData]:
    """Each host's series; where each series' value went is noted in `filings` (a reading
    whose series have the same labels is then filed again in place: filing.refile)."""
    hosts: dict[str, HostData] = {}
    place = placer(host_label, hosts, seen)
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


def group_hosts(
    answers: Answers,
    targets: Sequence[TargetHealth] | None,
    host_label: str,
    filings: Filings | None = None,
    seen: dict[str, str] | None = None,
) -> dict[str, HostData]:
    """Each host's series, filed (what one snapshot is made of, `now` aside); where each
    series went is noted in `filings` when given, each host label value's host in `seen`."""
    hosts = _group(answers, host_label, {} if filings is None else filings, seen)
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


__all__ = ["GPU_NAMES", "file_answer", "group_hosts", "mark_down", "unnamed"]
