"""Alerts per host that keep their start time across updates and clear when the cause is gone."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from clustertop.analysis.alert_rules import (
    SEVERITY,
    AlertKind,
    AlertThresholds,
    Finding,
    Severity,
    host_findings,
)
from clustertop.analysis.disk_busy import DiskBusyTracker
from clustertop.model import HostSnapshot

__all__ = [
    "Alert",
    "AlertKind",
    "AlertThresholds",
    "AlertTracker",
    "Severity",
    "alert_key",
    "alerts_json",
]


def alert_key(host: str, kind: AlertKind, subject: str) -> str:
    """The stable identity of an alert: JSON of [host, kind, subject], unambiguous whatever
    characters the host name or subject (a mount point) hold."""
    return json.dumps([host, kind.value, subject], ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Alert:
    """One active alert."""

    key: str
    """host + kind + subject (see alert_key): the same condition keeps the same key."""
    host: str
    """Host name as the user gave it."""
    kind: AlertKind
    """What it is about."""
    subject: str
    """Which thing on the host: GPU UUID, mount point, container ID, or '' for the host."""
    message: str
    """Plain one-line text, safe to show literally (control characters escaped)."""
    since: float
    """Unix time the condition began (or was first seen)."""
    severity: Severity
    """How urgent it is."""


def _order(alert: Alert) -> tuple[int, str, str, str]:
    return (alert.severity.rank, alert.host, alert.kind.value, alert.subject)


class AlertTracker:
    """The current alerts of every host, updated one snapshot at a time."""

    def __init__(self, thresholds: AlertThresholds | None = None) -> None:
        self.thresholds = thresholds or AlertThresholds()
        """The limits the rules use."""
        # Per host, keyed by (kind, subject): the key string is built once per new alert.
        self._current: dict[str, dict[tuple[AlertKind, str], Alert]] = {}
        self._had_gpus: set[str] = set()
        self._new: dict[str, Alert] = {}
        self._busy = DiskBusyTracker()

    def update(
        self,
        snap: HostSnapshot,
        stale_ids: frozenset[str] = frozenset(),
        idle_since: Callable[[str], float | None] | None = None,
        extra: Sequence[Finding] = (),
    ) -> list[Alert]:
        """The host's alerts now, most urgent first; O(size of the snapshot).

        `stale_ids` are the host's stale containers (StaleTracker.update); `idle_since`, when
        given, tells when a container's idle run began (functools.partial(
        stale_tracker.idle_since, host)), which becomes the stale alert's `since`.
        `since` is otherwise the host's state_since for a host that is down, else the time the
        alert was first seen, and it is kept while the key stays active. `extra` are findings
        of rules kept elsewhere (stale MIG instances), taken only while the host is up.
        """
        if snap.gpus:
            self._had_gpus.add(snap.name)
        previous = self._current.get(snap.name, {})
        current: dict[tuple[AlertKind, str], Alert] = {}
        findings = host_findings(
            snap,
            self.thresholds,
            had_gpus=snap.name in self._had_gpus,
            stale_ids=stale_ids,
            idle_since=idle_since,
            active=previous,
            busy_since=self._busy.update(snap),
        )
        if extra and snap.is_up:
            findings = [*findings, *extra]
        for found in findings:
            ident = (found.kind, found.subject)
            old = previous.get(ident)
            key = old.key if old else alert_key(snap.name, found.kind, found.subject)
            since = found.since if found.since is not None else old.since if old else snap.time
            if old is not None and old.message == found.message and old.since == since:
                current[ident] = old  # unchanged: no new object
                continue
            alert = Alert(
                key,
                snap.name,
                found.kind,
                found.subject,
                found.message,
                since,
                SEVERITY[found.kind],
            )
            current[ident] = alert
            if old is None:
                self._new[key] = alert
        self._current[snap.name] = current
        return sorted(current.values(), key=_order)

    def all(self) -> list[Alert]:
        """Every current alert, most urgent first, then by host, kind and subject."""
        return sorted((a for alerts in self._current.values() for a in alerts.values()), key=_order)

    def count(self) -> int:
        """How many alerts are active."""
        return sum(len(alerts) for alerts in self._current.values())

    def host_alerts(self, host: str) -> list[Alert]:
        """The host's current alerts, most urgent first."""
        return sorted(self._current.get(host, {}).values(), key=_order)

    def new_since_last(self) -> list[Alert]:
        """Alerts raised since the previous call and still active (for --bell), urgent first."""
        fresh, self._new = self._new, {}
        active = [
            now
            for alert in fresh.values()
            if (now := self._current.get(alert.host, {}).get((alert.kind, alert.subject)))
            is not None
        ]
        return sorted(active, key=_order)

    def forget(self, host: str) -> None:
        """Drop the host's alerts (it left the cluster)."""
        self._current.pop(host, None)
        self._had_gpus.discard(host)
        self._busy.forget(host)
        self._new = {key: alert for key, alert in self._new.items() if alert.host != host}


def alerts_json(alerts: Iterable[Alert]) -> list[dict[str, Any]]:
    """Plain dicts for `--json`."""
    return [
        {
            "key": alert.key,
            "host": alert.host,
            "kind": alert.kind.value,
            "subject": alert.subject,
            "message": alert.message,
            "since": alert.since,
            "severity": alert.severity.value,
        }
        for alert in alerts
    ]
