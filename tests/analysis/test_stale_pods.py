"""Stale Kubernetes pods: idle GPUs held for the stale period, and no pod counted twice."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.stale import StaleTracker
from clustertop.analysis.stale_pods import PodHold, PodStaleTracker, pod_holds, stale_pods_json
from clustertop.analysis.users import user_rows
from clustertop.model import GpuProcess, HostSnapshot, HostState, Section
from clustertop.model.attribution import Attribution
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.sources.join import resolve_gpu_processes
from tests.analysis.builders import ctr, gpu, proc, snap
from tests.parsers._fixtures import read_fixture

UID = "0424a739-74d9-46f1-ba60-b5dcefb83545"
POD = Attribution("pod", UID, name="train-0", owner="ml", via="namespace", container_id="a" * 64)


def _pod_proc(pid: int, index: int, found: Attribution = POD, mem_mib: int | None = 1000):
    return dataclasses.replace(proc(pid, index, mem_mib), attribution=found, owner=found.owner)


def _host(t: float, util0: float | None, util1: float | None = 0.0, *procs: GpuProcess):
    rows = procs or (_pod_proc(1, 0), _pod_proc(2, 1))
    return snap("gpu01", t, gpus=(gpu(0, util0, 100), gpu(1, util1, 100)), gpu_processes=rows)


def test_pod_holds_gathers_a_pods_gpus_and_skips_what_holds_nothing() -> None:
    other = Attribution("pod", "b" * 8, owner="b" * 8, via="pod-uid")
    host = _host(
        0.0, 0.0, 0.0,
        _pod_proc(1, 0), _pod_proc(2, 1), _pod_proc(3, 1),
        _pod_proc(4, 0, other, mem_mib=0),  # a pod holding no GPU memory is not a holder
        proc(5, 0),  # no attribution: no pod
    )  # fmt: skip
    assert pod_holds(host) == [PodHold(UID, "train-0", "ml", (0, 1))]
    unknown = _host(0.0, 0.0, 0.0, _pod_proc(1, 0, mem_mib=None))  # memory N/A: still a context
    assert [p.gpus for p in pod_holds(unknown)] == [(0,)]


def test_idle_for_exactly_the_stale_period_is_stale_and_a_busy_reading_ends_it() -> None:
    tracker = PodStaleTracker(stale_after=60.0, util_percent=5.0)
    tracker.update(_host(0.0, 1.0))
    tracker.update(_host(59.0, 5.0))  # at the threshold counts as idle
    assert tracker.stale("gpu01") == {}  # 59 s idle: not yet
    tracker.update(_host(60.0, 0.0))
    assert tracker.stale("gpu01") == {UID: 0.0}
    assert stale_pods_json(tracker, ["gpu01"]) == [
        {"host": "gpu01", "id": UID, "name": "train-0", "owner": "ml", "gpus": [0, 1],
         "idle_since": 0.0}
    ]  # fmt: skip
    tracker.update(_host(90.0, 1.0, util1=5.1))  # its second GPU works
    assert tracker.stale("gpu01") == {}
    for t in (100.0, 130.0, 160.0):
        tracker.update(_host(t, 0.0))
    assert tracker.stale("gpu01") == {UID: 100.0}  # a new run, from its first idle reading


def test_unknown_readings_neither_end_nor_extend_and_a_gap_ends() -> None:
    tracker = PodStaleTracker(stale_after=60.0, util_percent=5.0, gap_s=300.0)
    tracker.update(_host(0.0, 0.0))
    tracker.update(_host(50.0, None))  # utilisation N/A
    tracker.update(dataclasses.replace(_host(80.0, 0.0), stale={Section.GPU: 10.0}))
    errored = dataclasses.replace(gpu(0, 0.0, 100), error="GPU is lost")
    tracker.update(dataclasses.replace(_host(90.0, 0.0), gpus=(errored, gpu(1, 0.0, 100))))
    assert tracker.stale("gpu01") == {}  # only 0..0 proven idle
    tracker.update(_host(100.0, 0.0))
    assert tracker.stale("gpu01") == {UID: 0.0}
    tracker.update(_host(401.0, 0.0))  # more than 5 minutes without a reading
    assert tracker.stale("gpu01") == {}


def test_a_down_host_or_a_pod_gone_ends_the_run() -> None:
    tracker = PodStaleTracker(stale_after=0.0)
    tracker.update(_host(0.0, 0.0))
    assert tracker.stale("gpu01") == {UID: 0.0}
    tracker.update(snap("gpu01", 1.0, state=HostState.UNREACHABLE, error="x"))
    assert tracker.stale("gpu01") == {} and stale_pods_json(tracker, ["gpu01"]) == []
    tracker.update(_host(2.0, 0.0))
    tracker.update(_host(3.0, 0.0, 0.0, proc(9, 0)))  # the pod's processes are gone
    assert tracker.stale("gpu01") == {}


def test_a_pod_run_by_docker_is_the_containers_rule_alone() -> None:
    """dockershim / cri-dockerd: Docker lists the pod's container; it is stale once, as such."""
    box = ctr("k8s_train_train-0_ml", gpus=(0,), owner="ml")
    docker_pod = dataclasses.replace(POD, container_id=box.id)
    in_docker = dataclasses.replace(proc(1, 0, container=box), attribution=docker_pod)
    host = snap("gpu01", 0.0, gpus=(gpu(0, 0.0, 100),), gpu_processes=(in_docker,),
                containers=(box,))  # fmt: skip
    assert pod_holds(host) == []
    # Docker not answering this tick: its container id still marks the pod as Docker's.
    unlisted = dataclasses.replace(host, containers=(), docker_error="docker: timeout")
    assert pod_holds(unlisted) == []
    analysis = ClusterAnalysis(stale=StaleTracker(stale_after=0.0, util_percent=5.0))
    analysis.update(host)
    extras = analysis.document_extras([host])
    assert extras["pods_stale"] == []
    (row,) = extras["users"]
    assert (row["owner"], row["containers_stale"], row["pods_stale"]) == ("ml", 1, 0)


def test_users_count_stale_pods_for_their_owner() -> None:
    tracker = PodStaleTracker(stale_after=0.0)
    host = _host(0.0, 0.0)
    tracker.update(host)
    (row,) = user_rows([host], {}, {}, {"gpu01": frozenset(tracker.stale("gpu01"))})
    assert (row.owner, row.jobs, row.pods_stale, row.containers_stale) == ("ml", 1, 1, 0)
    (busy,) = user_rows([host], {}, {}, {})
    assert busy.pods_stale == 0


# Real /proc/<pid>/cgroup captures: CRI-O (systemd driver) and containerd (colon form), and a
# cgroup v2 line made of a real cAdvisor `id` path (cri-containerd-<id>.scope).
CRIO_POD = "a5c1f8d5-1919-434d-add7-4afaafdaef89"
CONTAINERD_POD = "b96a7488-3ee1-4bdc-9c98-155cc887b417"
V2_LINE = (
    "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0424a739_74d9_46f1_ba60_"
    "b5dcefb83545.slice/cri-containerd-7d924b29ef7dfeb7d40ca7a5c7ede6ff080fa22db6649b27e069ff2ab3"
    "ac91b2.scope\n"
)


def _real_host(t: float, busy_gpu: int | None) -> HostSnapshot:
    texts = [
        read_fixture("cgroup/proc-pid-cgroup-v1-k8s-crio-burstable-pod-calico-node-TRIMMED.txt"),
        read_fixture("cgroup/proc-self-cgroup-v1-k8s-containerd-burstable-pod-TRIMMED.txt"),
        V2_LINE,
    ]
    raw = [
        dataclasses.replace(proc(100 + i, i), owner=None, attribution=classify_cgroup(text))
        for i, text in enumerate(texts)
    ]
    gpus = tuple(gpu(i, 90.0 if i == busy_gpu else 0.0, 100) for i in range(3))
    rows = resolve_gpu_processes(raw, [], {})  # the sources' join: the owner rule, no Docker
    return snap("gpu01", t, gpus=gpus, gpu_processes=rows)


def test_real_cgroup_lines_end_to_end_in_the_json_document() -> None:
    analysis = ClusterAnalysis(stale=StaleTracker(stale_after=60.0, util_percent=5.0))
    for t in (0.0, 30.0, 60.0):
        host = _real_host(t, busy_gpu=1)  # the containerd pod's GPU works
        analysis.update(host)
    extras = analysis.document_extras([host])
    assert extras["pods_stale"] == [
        {"host": "gpu01", "id": UID, "name": UID, "owner": UID, "gpus": [2], "idle_since": 0.0},
        {"host": "gpu01", "id": CRIO_POD, "name": CRIO_POD, "owner": CRIO_POD, "gpus": [0],
         "idle_since": 0.0},
    ]  # fmt: skip
    users = {row["owner"]: row for row in extras["users"]}
    assert {owner: row["pods_stale"] for owner, row in users.items()} == {
        CRIO_POD: 1, CONTAINERD_POD: 0, UID: 1}  # fmt: skip
    assert extras["slurm_jobs_stale"] == [] and extras["summary"]["containers_stale"] == 0
