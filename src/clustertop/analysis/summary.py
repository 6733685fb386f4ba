"""The cluster at a glance: hosts, GPUs, containers and alerts counted from the newest snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sized
from dataclasses import dataclass
from typing import Any

from clustertop.analysis.free_gpus import DEFAULT_MEMORY_MIB, DEFAULT_UTIL_PERCENT
from clustertop.analysis.mig import UnitState, host_unit_states
from clustertop.model import HostSnapshot, HostState


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """Counts over the newest snapshot of every host."""

    hosts: int = 0
    """Hosts in total."""
    hosts_up: int = 0
    """Hosts that answered."""
    hosts_down: int = 0
    """Hosts neither up nor connecting (unreachable, timed out, refused, failed)."""
    hosts_connecting: int = 0
    """Hosts not yet answered."""
    gpus: int = 0
    """GPUs on up hosts; a GPU with MIG instances counts as its instances (see mig_instances)."""
    gpus_busy: int = 0
    """GPUs (or instances) with a process, or over the utilisation or memory limit."""
    gpus_free: int = 0
    """GPUs (or instances) free as free_gpus counts them."""
    containers_running: int = 0
    """Running containers on up hosts."""
    containers_stale: int = 0
    """Stale containers on up hosts."""
    alerts: int = 0
    """Active alerts."""
    mig_instances: int = 0
    """How many of `gpus` are MIG instances (counted instead of their GPUs)."""

    @property
    def gpus_unknown(self) -> int:
        """GPUs neither busy nor free (utilisation or memory unknown, or an error)."""
        return self.gpus - self.gpus_busy - self.gpus_free


def cluster_summary(
    snapshots: Iterable[HostSnapshot],
    stale: Mapping[str, frozenset[str]] | None = None,
    alerts: int | Sized = 0,
    *,
    memory_mib: int = DEFAULT_MEMORY_MIB,
    util_percent: float = DEFAULT_UTIL_PERCENT,
) -> ClusterSummary:
    """Count the newest snapshot of each host; `stale` maps host -> stale container IDs."""
    stale = stale or {}
    counts = dict.fromkeys(
        ("hosts", "up", "connecting", "gpus", "busy", "free", "running", "stale", "mig"), 0
    )
    for snap in snapshots:
        counts["hosts"] += 1
        if snap.state is HostState.CONNECTING:
            counts["connecting"] += 1
        if not snap.is_up:
            continue
        counts["up"] += 1
        _count_gpus(snap, counts, memory_mib, util_percent)
        stale_ids = stale.get(snap.name, frozenset())
        for ctr in snap.containers:
            if ctr.state == "running":
                counts["running"] += 1
                counts["stale"] += ctr.id in stale_ids
    return ClusterSummary(
        hosts=counts["hosts"],
        hosts_up=counts["up"],
        hosts_down=counts["hosts"] - counts["up"] - counts["connecting"],
        hosts_connecting=counts["connecting"],
        gpus=counts["gpus"],
        gpus_busy=counts["busy"],
        gpus_free=counts["free"],
        containers_running=counts["running"],
        containers_stale=counts["stale"],
        alerts=alerts if isinstance(alerts, int) else len(alerts),
        mig_instances=counts["mig"],
    )


def _count_gpus(
    snap: HostSnapshot, counts: dict[str, int], memory_mib: int, util_percent: float
) -> None:
    for unit, state in host_unit_states(snap, memory_mib=memory_mib, util_percent=util_percent):
        counts["gpus"] += 1
        counts["mig"] += unit.instance is not None
        counts["busy"] += state is UnitState.BUSY
        counts["free"] += state is UnitState.FREE


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary_line(summary: ClusterSummary) -> str:
    """'12/13 hosts up · 40 GPUs: 31 busy, 9 free · 52 containers, 3 stale · 4 alerts'.

    Connecting hosts, MIG instances counted as GPUs and GPUs of unknown state are added only
    when there are some.
    """
    hosts = f"{summary.hosts_up}/{_plural(summary.hosts, 'host')} up"
    if summary.hosts_connecting:
        hosts += f" ({summary.hosts_connecting} connecting)"
    gpus = _plural(summary.gpus, "GPU")
    if summary.mig_instances:
        gpus += f" ({summary.mig_instances} of them MIG instances)"
    gpus += f": {summary.gpus_busy} busy, {summary.gpus_free} free"
    if summary.gpus_unknown:
        gpus += f", {summary.gpus_unknown} unknown"
    containers = (
        f"{_plural(summary.containers_running, 'container')}, {summary.containers_stale} stale"
    )
    return " · ".join((hosts, gpus, containers, _plural(summary.alerts, "alert")))


def summary_json(summary: ClusterSummary) -> dict[str, Any]:
    """Plain dict for `--json`."""
    return {
        "hosts": summary.hosts,
        "hosts_up": summary.hosts_up,
        "hosts_down": summary.hosts_down,
        "hosts_connecting": summary.hosts_connecting,
        "gpus": summary.gpus,
        "gpus_busy": summary.gpus_busy,
        "gpus_free": summary.gpus_free,
        "gpus_unknown": summary.gpus_unknown,
        "containers_running": summary.containers_running,
        "containers_stale": summary.containers_stale,
        "alerts": summary.alerts,
        "mig_instances": summary.mig_instances,
    }
