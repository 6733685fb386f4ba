"""Stale Kubernetes pods: GPU memory held on GPUs that stayed idle for the stale period."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clustertop.analysis.idle_runs import IdleRuns
from clustertop.analysis.stale import DEFAULT_GAP_S, DEFAULT_STALE_AFTER, DEFAULT_UTIL_PERCENT
from clustertop.analysis.stale_jobs import gpus_verdict
from clustertop.model import HostSnapshot
from clustertop.model.attribution import POD
from clustertop.model.engines import container_id_of


@dataclass(frozen=True, slots=True)
class PodHold:
    """One pod holding GPU memory on a host, seen through its GPU processes."""

    id: str
    """Pod UID (the container id where the cgroup names no pod level)."""
    name: str | None
    """Pod name, else its UID (the attribution's name)."""
    owner: str | None
    """The owner rule's answer (label, namespace, else the pod UID)."""
    gpus: tuple[int, ...]
    """GPU indices its GPU processes run on, sorted."""


@dataclass(slots=True)
class _Seen:
    first: PodHold
    gpus: set[int] = field(default_factory=set)
    docker: bool = False


def pod_holds(snap: HostSnapshot) -> list[PodHold]:
    """Pods of the host whose GPU processes hold GPU memory, by id.

    A GPU process counts unless it reports exactly 0 bytes (unknown memory still means a GPU
    context). A pod any of whose processes runs in a container Docker (or podman) lists is
    left out: the container stale rule judges those containers, and a pod must not be
    counted twice.
    """
    listed = {c.id for c in snap.containers}
    seen: dict[str, _Seen] = {}
    for proc in snap.gpu_processes:
        found = proc.attribution
        if found is None or found.kind != POD or not found.id:
            continue
        entry = seen.setdefault(found.id, _Seen(PodHold(found.id, found.name, found.owner, ())))
        if container_id_of(proc) is not None or found.container_id in listed:
            entry.docker = True
        if proc.memory_used != 0:
            entry.gpus.add(proc.gpu_index)
    return [
        PodHold(entry.first.id, entry.first.name, entry.first.owner, tuple(sorted(entry.gpus)))
        for entry in (seen[key] for key in sorted(seen))
        if entry.gpus and not entry.docker
    ]


def pod_verdict(pod: PodHold, snap: HostSnapshot, util_percent: float) -> bool | None:
    """True idle, False busy, None unknown: judged as a Slurm job's GPUs are."""
    return gpus_verdict(pod.gpus, snap, util_percent)


@dataclass(slots=True)
class _HostPods:
    runs: IdleRuns[str] = field(default_factory=IdleRuns)
    pods: dict[str, PodHold] = field(default_factory=dict)
    last_time: float | None = None


@dataclass(slots=True)
class PodStaleTracker:
    """Per host and pod id: when its GPUs' current idle run began; stale after `stale_after`.

    The Slurm jobs' rule (JobStaleTracker) applied to pod_holds: a busy reading ends the run;
    an unknown one neither ends nor extends it; a pod no longer holding GPU memory, a host
    that is not up, or a gap of more than `gap_s` between readings ends it.
    """

    stale_after: float = DEFAULT_STALE_AFTER
    util_percent: float = DEFAULT_UTIL_PERCENT
    gap_s: float = DEFAULT_GAP_S
    _hosts: dict[str, _HostPods] = field(default_factory=dict)

    def update(self, snap: HostSnapshot) -> None:
        """Take the host's next snapshot (time-ordered per host)."""
        host = self._hosts.setdefault(snap.name, _HostPods())
        if not snap.is_up:
            self._hosts[snap.name] = _HostPods()
            return
        if host.last_time is not None and not 0 <= snap.time - host.last_time <= self.gap_s:
            host = self._hosts[snap.name] = _HostPods()
        host.last_time = snap.time
        host.pods = {pod.id: pod for pod in pod_holds(snap)}
        for pod in host.pods.values():
            host.runs.mark(pod.id, pod_verdict(pod, snap, self.util_percent), snap.time)
        host.runs.keep_only(host.pods)

    def stale(self, host: str) -> dict[str, float]:
        """Stale pod ids of a host -> when their idle run began."""
        runs = self._hosts.get(host)
        return runs.runs.stale(self.stale_after) if runs is not None else {}

    def pod(self, host: str, pod_id: str) -> PodHold | None:
        """The pod as last seen on the host (None when not holding GPU memory there)."""
        runs = self._hosts.get(host)
        return runs.pods.get(pod_id) if runs is not None else None


def stale_pods_json(tracker: PodStaleTracker, hosts: list[str]) -> list[dict[str, Any]]:
    """`[{"host", "id", "name", "owner", "gpus", "idle_since"}]` for --json."""
    rows = []
    for host in hosts:
        for pod_id, since in sorted(tracker.stale(host).items()):
            pod = tracker.pod(host, pod_id)
            rows.append(
                {
                    "host": host,
                    "id": pod_id,
                    "name": pod.name if pod else None,
                    "owner": pod.owner if pod else None,
                    "gpus": list(pod.gpus) if pod else [],
                    "idle_since": since,
                }
            )
    return rows
