"""Alerts: each rule, the error texts the sources really produce, and since kept while active."""

from __future__ import annotations

import pytest

from clustertop.analysis.alerts import (
    Alert,
    AlertKind,
    AlertThresholds,
    AlertTracker,
    Severity,
    alert_key,
    alerts_json,
)
from clustertop.config.settings import Config
from clustertop.model import HostSnapshot, HostState
from clustertop.parsers.docker import docker_error
from clustertop.parsers.nvidia_errors import nvidia_smi_error
from clustertop.sources.demo.cluster import DOCKER_DENIED
from clustertop.sources.local.docker import docker_error_text
from tests.analysis.builders import GIB, T0, ctr, disk, gpu, snap


def kinds(alerts: list[Alert]) -> list[tuple[AlertKind, str]]:
    """(kind, subject) of each alert."""
    return [(alert.kind, alert.subject) for alert in alerts]


def alerts_of(host: HostSnapshot, tracker: AlertTracker | None = None) -> list[Alert]:
    """One update of a fresh (or the given) tracker."""
    return (tracker or AlertTracker()).update(host)


@pytest.mark.parametrize(
    "state",
    [
        HostState.UNREACHABLE,
        HostState.TIMEOUT,
        HostState.AUTH_FAILED,
        HostState.HOSTKEY_FAILED,
        HostState.ERROR,
    ],
)
def test_a_host_that_is_not_up_raises_one_critical_alert_since_its_state_began(
    state: HostState,
) -> None:
    down = snap(time=T0, state=state, error="connection refused", state_since=T0 - 600)
    [alert] = alerts_of(down)
    assert (alert.kind, alert.subject, alert.severity) == (
        AlertKind.HOST_DOWN,
        "",
        Severity.CRITICAL,
    )
    assert alert.message == f"host {state.value}: connection refused"
    assert alert.since == T0 - 600


def test_a_connecting_host_raises_nothing() -> None:
    assert alerts_of(snap(state=HostState.CONNECTING)) == []


def test_a_healthy_host_raises_nothing() -> None:
    assert alerts_of(snap(gpus=(gpu(0, 50.0, 100, temp=84.9),), disks=(disk("/", 89.9),))) == []


def test_gpu_temperature_at_the_limit_and_uncorrected_ecc_errors() -> None:
    hot = gpu(0, temp=85.0)
    broken = gpu(1, ecc=3)
    alerts = alerts_of(snap(gpus=(hot, broken, gpu(2, temp=84.0))))
    assert kinds(alerts) == [
        (AlertKind.GPU_ECC, broken.uuid),
        (AlertKind.GPU_TEMPERATURE, hot.uuid),
    ]
    assert alerts[1].message == "GPU 0 (NVIDIA A100-SXM4-80GB) at 85 °C (limit 85 °C)"
    assert alerts[0].message == (
        "GPU 1 (NVIDIA A100-SXM4-80GB): 3 uncorrected ECC errors since the driver loaded"
    )


def test_a_lost_gpu_is_critical() -> None:
    lost = gpu(2, None, None, uuid="", name="", temp=None, error="GPU is lost")
    [alert] = alerts_of(snap(gpus=(gpu(0), lost)))
    assert (alert.kind, alert.subject, alert.severity) == (
        AlertKind.GPU_LOST,
        "index 2",
        Severity.CRITICAL,
    )
    assert alert.message == "GPU 2: GPU is lost"


DRIVER_GONE = nvidia_smi_error(
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", 9
)
NO_DEVICES = nvidia_smi_error("No devices were found", 6)
NOT_INSTALLED = nvidia_smi_error("sh: 1: nvidia-smi: not found", 127)


def test_gpu_errors_that_are_failures_alarm_and_missing_gpu_software_does_not() -> None:
    assert DRIVER_GONE and NO_DEVICES and NOT_INSTALLED
    [alert] = alerts_of(snap(gpu_error=DRIVER_GONE))
    assert alert.kind is AlertKind.GPU_DRIVER
    assert alert.message == f"GPUs unreadable: {DRIVER_GONE}"
    assert alerts_of(snap(gpu_error=NOT_INSTALLED)) == []
    assert alerts_of(snap(gpu_error="nvidia-ml-py (pynvml) not installed")) == []
    timeout = "nvidia-smi timed out (a GPU may have fallen off the bus)"
    assert kinds(alerts_of(snap(gpu_error=timeout))) == [(AlertKind.GPU_DRIVER, "")]


def test_no_devices_found_alarms_only_on_a_host_that_had_gpus() -> None:
    tracker = AlertTracker()
    assert tracker.update(snap("cpu01", gpu_error=NO_DEVICES)) == []
    tracker.update(snap("gpu01", gpus=(gpu(0),)))
    assert kinds(tracker.update(snap("gpu01", time=T0 + 2, gpu_error=NO_DEVICES))) == [
        (AlertKind.GPU_DRIVER, "")
    ]


DAEMON_DOWN = docker_error(
    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
    "Is the docker daemon running?",
    1,
)


@pytest.mark.parametrize(
    "error",
    [
        DAEMON_DOWN,
        docker_error_text(FileNotFoundError(2, "No such file"), "unix:///var/run/docker.sock"),
        docker_error_text(TimeoutError(), "unix:///var/run/docker.sock"),
        "timed out: no answer for 12 s",
        "no answer within 10 s",
        "unreadable docker output (line 1 of docker inspect output is not JSON)",
    ],
)
def test_docker_down_or_hung_alarms(error: str | None) -> None:
    assert error
    [alert] = alerts_of(snap(docker_error=error))
    assert (alert.kind, alert.severity) == (AlertKind.DOCKER_DOWN, Severity.WARNING)
    assert alert.message == f"Docker: {error}"


@pytest.mark.parametrize(
    "error",
    [
        docker_error("bash: line 1: docker: command not found", 127),
        "docker SDK not installed",
        docker_error(DOCKER_DENIED, 1),
        DOCKER_DENIED,
        docker_error_text(PermissionError(13, "denied"), "unix:///var/run/docker.sock"),
    ],
)
def test_no_docker_or_no_permission_is_a_fact_not_an_alarm(error: str | None) -> None:
    assert error
    assert alerts_of(snap(docker_error=error)) == []


def test_full_disks_inodes_and_huge_container_logs() -> None:
    chatty = ctr("eve-chatty", log_size=GIB)
    host = snap(
        disks=(disk("/", 90.0), disk("/data", 50.0, inodes_percent=95.0), disk("/ok", 10.0)),
        containers=(chatty, ctr("eve-quiet", log_size=GIB - 1)),
    )
    alerts = alerts_of(host)
    assert kinds(alerts) == [
        (AlertKind.CONTAINER_LOG, chatty.id),
        (AlertKind.DISK_FULL, "/"),
        (AlertKind.INODES_FULL, "/data"),
    ]
    assert (
        alerts[0].message == "container eve-chatty log is 1.0 GiB (docker logs can fill the disk)"
    )
    assert alerts[1].message == "/ 90% full (102.4 GiB free)"
    assert alerts[2].message == "/data inodes 95% used (50000 free)"


def test_thresholds_come_from_the_config() -> None:
    limits = AlertThresholds.from_config(
        Config(alert_temperature_c=70, alert_disk_percent=50, alert_log_size=10)
    )
    assert limits == AlertThresholds(70.0, 50.0, 10)
    host = snap(
        gpus=(gpu(0, temp=71),), disks=(disk("/", 60),), containers=(ctr("a-b", log_size=10),)
    )
    assert len(AlertTracker(limits).update(host)) == 3


def test_stale_containers_alert_with_their_idle_start_as_since() -> None:
    idle = ctr("alice-train", gpus=(0, 1), gpu_mem_mib=12 * 1024)
    host = snap(time=T0, containers=(idle, ctr("bob-busy")))
    [alert] = AlertTracker().update(host, frozenset({idle.id}), {idle.id: T0 - 2520}.get)
    assert (alert.kind, alert.subject, alert.severity) == (
        AlertKind.STALE_CONTAINER,
        idle.id,
        Severity.INFO,
    )
    assert alert.since == T0 - 2520
    assert alert.message == (
        "container alice-train (alice) holds 12.0 GiB of GPU memory, GPU 0,1 idle"
    )


def test_an_alert_keeps_its_since_while_active_and_clears_when_the_cause_is_gone() -> None:
    tracker = AlertTracker()
    [first] = tracker.update(snap(time=T0, gpus=(gpu(0, temp=86),)))
    [later] = tracker.update(snap(time=T0 + 2, gpus=(gpu(0, temp=90),)))
    assert later.key == first.key == alert_key("gpu01", AlertKind.GPU_TEMPERATURE, gpu(0).uuid)
    assert later.since == T0
    assert "90 °C" in later.message
    assert tracker.update(snap(time=T0 + 4, gpus=(gpu(0, temp=60),))) == []
    assert tracker.all() == []
    [again] = tracker.update(snap(time=T0 + 6, gpus=(gpu(0, temp=88),)))
    assert again.since == T0 + 6


def test_a_hot_gpu_or_full_disk_hovering_at_the_limit_raises_one_alert_not_many() -> None:
    tracker = AlertTracker()  # limits 85 °C and 90 %, cleared 3 °C and 2 points under them
    readings = [  # (GPU temperature, disk use %, inode use %) each tick
        (85, 90.0, 90.0),  # raised
        (84, 89.0, 88.5),  # under the limits, above the clear margins: still raised
        (83, 88.5, 88.1),
        (85, 91.0, 90.0),
        (82, 87.9, 88.0),  # a margin under: cleared
        (84, 89.0, 89.0),  # back under the limits only: nothing new
        (85, 90.0, 90.0),  # at the limits again: raised anew
    ]
    seen = []
    for tick, (temp, used, inodes) in enumerate(readings):
        host = snap(
            time=T0 + 2 * tick,
            gpus=(gpu(0, temp=temp),),
            disks=(disk("/", used, inodes_percent=inodes),),
        )
        alerts = tracker.update(host)
        seen.append((len(alerts), {a.since for a in alerts}))
        assert len(tracker.new_since_last()) == (3 if tick in (0, 6) else 0), f"tick {tick}"
    assert seen == [
        (3, {T0}), (3, {T0}), (3, {T0}), (3, {T0}), (0, set()), (0, set()), (3, {T0 + 12})
    ]  # fmt: skip


def test_one_reading_alerts_only_at_the_limits() -> None:
    host = snap(gpus=(gpu(0, temp=84),), disks=(disk("/", 89.0, inodes_percent=89.5),))
    assert alerts_of(host) == []


def test_a_host_going_down_replaces_its_other_alerts() -> None:
    tracker = AlertTracker()
    tracker.update(snap(gpus=(gpu(0, temp=95),), disks=(disk("/", 99),)))
    assert len(tracker.all()) == 2
    tracker.update(snap(time=T0 + 2, state=HostState.TIMEOUT, error="no answer in 10 s"))
    assert kinds(tracker.all()) == [(AlertKind.HOST_DOWN, "")]
    assert tracker.all()[0].since == T0 + 2  # no state_since given: first seen


def test_all_sorts_urgent_first_and_new_since_last_reports_each_new_alert_once() -> None:
    tracker = AlertTracker()
    tracker.update(snap("b", gpus=(gpu(0, temp=90),)))
    tracker.update(snap("a", disks=(disk("/", 95),)))
    tracker.update(snap("c", state=HostState.UNREACHABLE, error="refused"))
    assert [(a.host, a.kind) for a in tracker.all()] == [
        ("c", AlertKind.HOST_DOWN),
        ("a", AlertKind.DISK_FULL),
        ("b", AlertKind.GPU_TEMPERATURE),
    ]
    assert tracker.count() == 3
    assert [a.host for a in tracker.new_since_last()] == ["c", "a", "b"]
    assert tracker.new_since_last() == []
    tracker.update(snap("b", time=T0 + 2, gpus=(gpu(0, temp=91),)))  # same alert, still on
    tracker.update(snap("a", time=T0 + 2, disks=(disk("/", 95), disk("/x", 99))))
    tracker.update(snap("d", gpus=(gpu(0, temp=90),)))
    tracker.update(snap("d", time=T0 + 2, gpus=(gpu(0, temp=20),)))  # came and went
    assert [(a.host, a.subject) for a in tracker.new_since_last()] == [("a", "/x")]
    tracker.forget("c")
    assert [a.host for a in tracker.host_alerts("a")] == ["a", "a"]
    assert "c" not in {a.host for a in tracker.all()}


def test_messages_show_hostile_text_literally_on_one_line() -> None:
    host = snap(disks=(disk("/mnt/[red]x\x1b[2J\nnext", 99),))
    [alert] = alerts_of(host)
    assert alert.message == "/mnt/[red]x\\x1b[2J next 99% full (10.2 GiB free)"
    assert alert.subject == "/mnt/[red]x\x1b[2J\nnext"  # the identity stays exact


def test_json() -> None:
    [doc] = alerts_json(alerts_of(snap(disks=(disk("/", 95),))))
    assert doc == {
        "key": '["gpu01", "disk-full", "/"]',
        "host": "gpu01",
        "kind": "disk-full",
        "subject": "/",
        "message": "/ 95% full (51.2 GiB free)",
        "since": T0,
        "severity": "warning",
    }
