"""What every screen reads: the snapshot store, the clock and the one analysis of the app."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.mig import UnitKey
from clustertop.model import HostSnapshot
from clustertop.ui.store import SnapshotStore


@dataclass(frozen=True, slots=True)
class LiveContext:
    """Shared, read-only view state handed to each screen."""

    store: SnapshotStore
    """Newest snapshot per host."""
    clock: Callable[[], float]
    """Current unix time (fixed in screenshots and snapshot tests)."""
    interval: float
    """Refresh interval of the source in seconds."""
    analysis: ClusterAnalysis | None = None
    """History, stale containers, alerts and free-GPU thresholds, fed with every snapshot by the
    app; the only analysis the screens read (None: the app runs without one)."""
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host groups for `@group` filters."""

    def stale(self, snap: HostSnapshot) -> frozenset[str]:
        """Container IDs of the host that the analysis calls stale (none without analysis)."""
        return self.analysis.stale(snap) if self.analysis is not None else frozenset()

    def stale_jobs(self, snap: HostSnapshot) -> frozenset[str]:
        """Slurm job ids of the host that the analysis calls stale (none without analysis)."""
        if self.analysis is None:
            return frozenset()
        return frozenset(self.analysis.job_tracker.stale(snap.name))

    def stale_pods(self, snap: HostSnapshot) -> frozenset[str]:
        """Pod ids of the host that the analysis calls stale (none without analysis)."""
        if self.analysis is None:
            return frozenset()
        return frozenset(self.analysis.pod_tracker.stale(snap.name))

    def mig_stale(self, snap: HostSnapshot) -> frozenset[UnitKey]:
        """(GPU index, GI, CI) of the host's stale MIG instances (none without analysis)."""
        if self.analysis is None:
            return frozenset()
        return frozenset(self.analysis.mig_tracker.stale(snap.name))

    def alert_count(self) -> int:
        """Active alerts over the whole cluster (0 without analysis)."""
        return self.analysis.alert_count() if self.analysis is not None else 0

    def hosts_matching(self, query: str) -> set[str] | None:
        """Hosts a filter selects: '@name' selects groups starting with name; None: by substring."""
        if not query.startswith("@"):
            return None
        prefix = query[1:].lower()
        return {
            host
            for group, hosts in self.groups.items()
            if group.lower().startswith(prefix)
            for host in hosts
        }
