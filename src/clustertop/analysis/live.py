"""ClusterAnalysis: the analysis trackers fed with every snapshot, in one place."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from clustertop.analysis.alert_rules import AlertThresholds
from clustertop.analysis.alerts import Alert, AlertTracker, alerts_json
from clustertop.analysis.free_gpus import free_gpus, free_gpus_json
from clustertop.analysis.history import History
from clustertop.analysis.stale import StaleTracker
from clustertop.analysis.stale_jobs import JobStaleTracker, stale_jobs_json
from clustertop.analysis.stale_mig import MigStaleTracker, mig_stale_json, stale_findings
from clustertop.analysis.stale_pods import PodStaleTracker, stale_pods_json
from clustertop.analysis.summary import cluster_summary, summary_json
from clustertop.analysis.users import user_rows, users_json
from clustertop.analysis.zoom import HistoryZoom, Past
from clustertop.config.settings import Config
from clustertop.model import HostSnapshot


class ClusterAnalysis:
    """History, stale containers and alerts, updated per snapshot (O(size of that snapshot))."""

    def __init__(
        self,
        *,
        stale: StaleTracker | None = None,
        alerts: AlertTracker | None = None,
        history: History | None = None,
        free_gpu_memory_mib: int = 500,
        free_gpu_util_percent: float = 5.0,
    ) -> None:
        self.stale_tracker = stale or StaleTracker(stale_after=1800.0, util_percent=5.0)
        """Stale containers per host."""
        self.alert_tracker = alerts or AlertTracker()
        """Active alerts."""
        self.history = history or History()
        """Bounded per-host history for charts."""
        self.free_gpu_memory_mib = free_gpu_memory_mib
        """A GPU using at most this much memory can count as free."""
        self.free_gpu_util_percent = free_gpu_util_percent
        """A GPU at or under this utilisation can count as free."""
        self.zoom = HistoryZoom(self.history)
        """The history and its longer windows (24 h, 7 d), one on show."""
        self.pasts: list[Past] = []
        """Where readings from before now come from (the longer windows load them later)."""
        self.job_tracker = JobStaleTracker(
            self.stale_tracker.stale_after, self.stale_tracker.util_percent
        )
        """Stale Slurm jobs per host (the containers' thresholds)."""
        self.mig_tracker = MigStaleTracker(
            self.stale_tracker.stale_after,
            self.stale_tracker.util_percent,
            memory_mib=free_gpu_memory_mib,
        )
        """Stale MIG instances per host (an instance holding more than free_gpu_memory_mib)."""
        self.pod_tracker = PodStaleTracker(
            self.stale_tracker.stale_after, self.stale_tracker.util_percent
        )
        """Stale Kubernetes pods per host (not run by Docker; the containers' thresholds)."""

    @classmethod
    def from_config(cls, config: Config) -> ClusterAnalysis:
        """Trackers with the thresholds of the effective config."""
        return cls(
            stale=StaleTracker.from_config(config),
            alerts=AlertTracker(AlertThresholds.from_config(config)),
            history=History.from_config(config),
            free_gpu_memory_mib=config.free_gpu_memory_mib,
            free_gpu_util_percent=config.free_gpu_util_percent,
        )

    def update(self, snap: HostSnapshot) -> None:
        """Fold one new snapshot into every tracker."""
        self.history.add(snap)
        self.zoom.add(snap)
        self.job_tracker.update(snap)
        self.mig_tracker.update(snap)
        self.pod_tracker.update(snap)
        stale_ids = self.stale_tracker.update(snap)
        idle_since = functools.partial(self.stale_tracker.idle_since, snap.name)
        extra = stale_findings(self.mig_tracker, snap)
        self.alert_tracker.update(snap, stale_ids, idle_since, extra)

    def add_past(self, past: Callable[[float, float], Iterable[HostSnapshot]]) -> None:
        """Feed the history the readings a source has from before now (`Source.past_snapshots`).

        `past(window_s, resolution_s)` yields them oldest first. Only the history takes them:
        stale containers and alerts keep judging live readings. The longer zoom levels load
        theirs later, off the UI's path (`zoom.load(pasts)`).
        """
        self.pasts.append(past)
        for snap in past(self.history.window_s, self.history.resolution_s):
            self.history.add(snap)

    def stale(self, snap: HostSnapshot) -> frozenset[str]:
        """Stale container IDs of a host (as of its last update)."""
        return self.stale_tracker.stale(snap.name)

    def stale_jobs(self, snaps: Iterable[HostSnapshot]) -> dict[str, frozenset[str]]:
        """Stale Slurm job ids per host (as of each host's last update)."""
        return {s.name: frozenset(self.job_tracker.stale(s.name)) for s in snaps}

    def stale_pods(self, snaps: Iterable[HostSnapshot]) -> dict[str, frozenset[str]]:
        """Stale pod ids per host (as of each host's last update)."""
        return {s.name: frozenset(self.pod_tracker.stale(s.name)) for s in snaps}

    def alert_count(self) -> int:
        """Active alerts over the cluster."""
        return self.alert_tracker.count()

    def alerts(self) -> list[Alert]:
        """Active alerts, as the tracker orders them."""
        return self.alert_tracker.all()

    def document_extras(self, snaps: list[HostSnapshot]) -> dict[str, Any]:
        """Top-level JSON keys beside `hosts`: summary, users, free GPUs, alerts, stale."""
        stale = {s.name: self.stale(s) for s in snaps}
        return {
            "summary": summary_json(cluster_summary(snaps, stale, self.alerts())),
            "users": users_json(
                user_rows(snaps, stale, self.stale_jobs(snaps), self.stale_pods(snaps))
            ),
            "free_gpus": free_gpus_json(
                free_gpus(
                    snaps,
                    memory_mib=self.free_gpu_memory_mib,
                    util_percent=self.free_gpu_util_percent,
                )
            ),
            "alerts": alerts_json(self.alerts()),
            "slurm_jobs_stale": stale_jobs_json(self.job_tracker, [s.name for s in snaps]),
            "mig_stale": mig_stale_json(self.mig_tracker, snaps),
            "pods_stale": stale_pods_json(self.pod_tracker, [s.name for s in snaps]),
        }
