"""How long each block device has been busy near 100 %, per host (for the disk-busy alert)."""

from __future__ import annotations

from collections.abc import Mapping

from clustertop.model import HostSnapshot
from clustertop.model.network import whole_devices


class DiskBusyTracker:
    """Start time of each device's current run at or above `busy_percent` (kept while it stays
    at or above `busy_percent - clear_margin`, so a device hovering at the limit keeps its run)."""

    def __init__(self, busy_percent: float = 95.0, clear_margin: float = 10.0) -> None:
        self.busy_percent = busy_percent
        """Busy share that starts a run, percent."""
        self.clear_margin = clear_margin
        """How far under the limit a run ends, percentage points."""
        self._since: dict[str, dict[str, float]] = {}

    def update(self, snap: HostSnapshot) -> Mapping[str, float]:
        """Device -> Unix time its busy run began, for the host's whole devices busy now."""
        previous = self._since.get(snap.name, {})
        current: dict[str, float] = {}
        whole = whole_devices(d.name for d in snap.disk_io)
        for device in snap.disk_io:
            busy, began = device.busy_percent, previous.get(device.name)
            if device.name not in whole:
                continue
            if busy is None:  # a counter reset: no reading, the run neither ends nor grows
                if began is not None:
                    current[device.name] = began
                continue
            limit = self.busy_percent - (self.clear_margin if began is not None else 0.0)
            if busy >= limit:
                current[device.name] = began if began is not None else snap.time
        self._since[snap.name] = current
        return current

    def forget(self, host: str) -> None:
        """Drop a host that left the cluster."""
        self._since.pop(host, None)
