"""What every screen reads: the snapshot store, the clock and the analysis providers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from clustertop.model import HostSnapshot
from clustertop.ui.store import SnapshotStore

StaleProvider = Callable[[HostSnapshot], frozenset[str]]
"""Container IDs of a host that are stale (decided by the analysis layer)."""
AlertsProvider = Callable[[Sequence[HostSnapshot]], int]
"""Number of active alerts over the whole cluster."""


def no_stale(snap: HostSnapshot) -> frozenset[str]:
    """Default stale provider: nothing is stale."""
    return frozenset()


def no_alerts(snaps: Sequence[HostSnapshot]) -> int:
    """Default alerts provider: no alerts."""
    return 0


@dataclass(frozen=True, slots=True)
class LiveContext:
    """Shared, read-only view state handed to each screen."""

    store: SnapshotStore
    """Newest snapshot per host."""
    clock: Callable[[], float]
    """Current unix time (fixed in screenshots and snapshot tests)."""
    interval: float
    """Refresh interval of the source in seconds."""
    stale: StaleProvider = no_stale
    """Stale containers per host."""
    alerts: AlertsProvider = no_alerts
    """Alert count over all hosts."""
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host groups for `@group` filters."""

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
