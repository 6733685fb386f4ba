"""The cluster summary counts and its one-line text."""

from __future__ import annotations

from clustertop.analysis.summary import ClusterSummary, cluster_summary, summary_json, summary_line
from clustertop.model import HostSnapshot, HostState
from tests.analysis.builders import ctr, gpu, proc, snap

STALE = ctr("alice-idle", gpus=(0,))


def cluster() -> list[HostSnapshot]:
    """Four hosts: two up, one down, one connecting."""
    one = snap(
        "gpu01",
        gpus=(
            gpu(0, 0.0, 2000),  # busy: memory
            gpu(1, 50.0, 0),  # busy: utilisation
            gpu(2, 0.0, 0),  # busy: a process
            gpu(3, 0.0, 0),  # free
            gpu(4, None, 0),  # unknown
        ),
        gpu_processes=(proc(1, 2, 0),),
        containers=(STALE, ctr("bob-a"), ctr("bob-old", state="exited")),
    )
    two = snap("gpu02", gpus=(gpu(0), gpu(1, 0.0, 0, error="GPU is lost")))
    return [
        one,
        two,
        snap("gpu03", state=HostState.UNREACHABLE, error="refused"),
        snap("gpu04", state=HostState.CONNECTING),
    ]


def test_counts() -> None:
    summary = cluster_summary(cluster(), {"gpu01": frozenset({STALE.id}), "gpu02": frozenset()}, 4)
    assert summary == ClusterSummary(
        hosts=4,
        hosts_up=2,
        hosts_down=1,
        hosts_connecting=1,
        gpus=7,
        gpus_busy=3,
        gpus_free=2,
        containers_running=2,
        containers_stale=1,
        alerts=4,
    )
    assert summary.gpus_unknown == 2
    assert summary_json(summary)["gpus_unknown"] == 2


def test_the_line_reads_naturally() -> None:
    summary = cluster_summary(cluster(), {"gpu01": frozenset({STALE.id})}, ["x"])
    assert summary_line(summary) == (
        "2/4 hosts up (1 connecting) · 7 GPUs: 3 busy, 2 free, 2 unknown"
        " · 2 containers, 1 stale · 1 alert"
    )
    plain = ClusterSummary(
        hosts=13,
        hosts_up=12,
        hosts_down=1,
        gpus=40,
        gpus_busy=31,
        gpus_free=9,
        containers_running=52,
        containers_stale=3,
        alerts=4,
    )
    assert summary_line(plain) == (
        "12/13 hosts up · 40 GPUs: 31 busy, 9 free · 52 containers, 3 stale · 4 alerts"
    )


def test_an_empty_cluster() -> None:
    assert summary_line(cluster_summary([])) == (
        "0/0 hosts up · 0 GPUs: 0 busy, 0 free · 0 containers, 0 stale · 0 alerts"
    )
