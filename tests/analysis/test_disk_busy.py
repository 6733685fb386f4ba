"""The disk-busy alert: a whole device near 100 % busy for minutes, once per disk."""

from __future__ import annotations

from clustertop.analysis.alerts import AlertKind, AlertTracker
from clustertop.model import HostSnapshot, HostState
from clustertop.model.network import DiskCounters, DiskIo, whole_devices
from tests.analysis.builders import T0


def _snap(at: float, **busy: float | None) -> HostSnapshot:
    devices = tuple(
        DiskIo(DiskCounters(name, 0, 0, 0, 0, 0), busy_percent=value)
        for name, value in busy.items()
    )
    return HostSnapshot("h1", HostState.UP, T0 + at, disk_io=devices)


def _busy(tracker: AlertTracker, snap: HostSnapshot) -> list[str]:
    return [a.message for a in tracker.update(snap) if a.kind is AlertKind.DISK_BUSY]


def test_partitions_are_not_whole_devices() -> None:
    names = ["sda", "sda1", "sda10", "nvme0n1", "nvme0n1p2", "dm-0", "md127", "vdb"]
    assert whole_devices(names) == {"sda", "nvme0n1", "dm-0", "md127", "vdb"}


def test_a_device_busy_for_three_minutes_alerts_once_since_its_run_began() -> None:
    tracker = AlertTracker()
    assert _busy(tracker, _snap(0, sda=99.0, sda1=99.0)) == []
    assert _busy(tracker, _snap(120, sda=100.0, sda1=100.0)) == []
    assert _busy(tracker, _snap(170, sda=None, sda1=None)) == []  # a reset: run goes on
    [alert] = [a for a in tracker.update(_snap(180, sda=97.0)) if a.kind is AlertKind.DISK_BUSY]
    assert (alert.subject, alert.since, alert.severity.value) == ("sda", T0, "warning")
    assert alert.message == "disk sda busy near 100 % for 3 min"
    assert _busy(tracker, _snap(200, sda=88.0)) != []  # within the margin: still busy
    assert _busy(tracker, _snap(210, sda=40.0)) == []  # the run ended


def test_a_short_burst_or_a_gap_never_alerts() -> None:
    tracker = AlertTracker()
    for at, busy in ((0, 100.0), (100, 50.0), (150, 100.0), (300, 100.0)):
        assert _busy(tracker, _snap(at, vdb=busy)) == []
