"""MIG instances in the analysis: free finder, summary, users view and the stale rule per instance."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.free_gpus import free_gpus, free_gpus_json
from clustertop.analysis.stale import StaleTracker, stale_containers
from clustertop.analysis.summary import cluster_summary, summary_json, summary_line
from clustertop.analysis.users import user_rows
from clustertop.model import MIB, Gpu, GpuProcess, HostSnapshot
from clustertop.model.mig import MigInstance, MigRef
from tests.analysis.builders import T0, ctr, gpu, proc, snap

MIG_UUIDS = ("MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3", "MIG-7d8b2e8d-57ea-5fe3-83bc-2026e5cb10fb")


def instance(
    dev: int, gi: int, used_mib: int = 12, *, uuid: str | None = "", util: float | None = None
) -> MigInstance:
    """A 1g.10gb MIG device (UUID from the real `-L` capture for devices 0 and 1)."""
    return MigInstance(
        device_index=dev,
        gpu_instance_id=gi,
        compute_instance_id=0,
        profile="1g.10gb",
        uuid=(MIG_UUIDS[dev] if dev < 2 else f"MIG-{dev}") if uuid == "" else uuid,
        memory_used=used_mib * MIB,
        memory_total=9984 * MIB,
        util_percent=util,
    )


def mig_gpu(index: int = 1, *instances: MigInstance) -> Gpu:
    """An H100 in MIG mode: utilisation N/A, as nvidia-smi reports it."""
    base = gpu(index, None, 50, name="NVIDIA H100 80GB HBM3")
    found = instances or (instance(0, 9), instance(1, 10), instance(2, 11), instance(3, 12))
    return dataclasses.replace(base, mig_mode="Enabled", mig_instances=found)


def on(
    pid: int, gpu_index: int, gi: int | None, *, mem_mib: int = 2000, **kwargs: object
) -> GpuProcess:
    """A process on a MIG instance (gi None: instance unknown)."""
    base = proc(pid, gpu_index, mem_mib, **kwargs)  # type: ignore[arg-type]
    return dataclasses.replace(base, mig=None if gi is None else MigRef(gi, 0))


def test_free_finder_lists_free_instances_with_a_mig_ready_line() -> None:
    host = snap("h100", gpus=(mig_gpu(0),), gpu_processes=(on(7, 0, 10),))
    [entry] = free_gpus([host])
    assert [(g.index, g.instance.gpu_instance_id) for g in entry.gpus if g.instance] == [
        (0, 9),
        (0, 11),
        (0, 12),
    ]
    assert entry.indices == () and len(entry.instances) == 3
    assert entry.gpus[0].ready_line == f"ssh h100 CUDA_VISIBLE_DEVICES={MIG_UUIDS[0]}"
    assert entry.ready_line == f"ssh h100 CUDA_VISIBLE_DEVICES={MIG_UUIDS[0]}"
    assert entry.gpus[0].memory_free == (9984 - 12) * MIB


def test_whole_gpus_and_instances_on_one_host() -> None:
    host = snap("mixed", gpus=(gpu(0), mig_gpu(1)))
    [entry] = free_gpus([host])
    assert entry.indices == (0,) and len(entry.instances) == 4
    assert entry.ready_line == "ssh mixed CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0"
    [doc] = free_gpus_json([entry])
    assert doc["count"] == 5 and doc["mig_count"] == 4 and doc["indices"] == [0]
    assert doc["gpus"][1]["mig"] == {
        "profile": "1g.10gb",
        "uuid": MIG_UUIDS[0],
        "gpu_instance_id": 9,
        "compute_instance_id": 0,
    }
    assert doc["gpus"][1]["ready_line"] == f"ssh mixed CUDA_VISIBLE_DEVICES={MIG_UUIDS[0]}"


def test_instance_over_the_memory_limit_is_busy_and_unknown_uuid_has_no_line() -> None:
    host = snap(gpus=(mig_gpu(0, instance(0, 9, 600), instance(1, 10, uuid=None)),))
    [entry] = free_gpus([host])
    [only] = entry.gpus
    assert only.instance is not None and only.instance.gpu_instance_id == 10
    assert only.ready_line is None and entry.ready_line == ""


def test_a_process_whose_instance_is_unknown_leaves_every_instance_unknown() -> None:
    host = snap(gpus=(mig_gpu(0),), gpu_processes=(on(7, 0, None),))
    assert free_gpus([host]) == []
    summary = cluster_summary([host])
    assert (summary.gpus, summary.gpus_busy, summary.gpus_free, summary.gpus_unknown) == (
        4,
        0,
        0,
        4,
    )


def test_summary_counts_instances_and_says_so() -> None:
    hosts = [
        snap("a", gpus=(gpu(0), mig_gpu(1)), gpu_processes=(on(7, 1, 9),)),
        snap("b", gpus=(gpu(0, 90.0),)),
    ]
    summary = cluster_summary(hosts)
    assert (summary.gpus, summary.mig_instances, summary.gpus_busy, summary.gpus_free) == (
        6,
        4,
        2,
        4,
    )
    assert "6 GPUs (4 of them MIG instances): 2 busy, 4 free" in summary_line(summary)
    assert summary_json(summary)["mig_instances"] == 4
    plain = cluster_summary([snap(gpus=(gpu(0),))])
    assert "MIG" not in summary_line(plain) and plain.mig_instances == 0


def test_a_mig_gpu_without_instances_is_never_free() -> None:
    bare = dataclasses.replace(
        gpu(0, None, 0),
        mig_mode="Enabled",
        mig_error="MIG devices not readable: Insufficient Permissions",
    )
    host = snap(gpus=(bare,))
    assert free_gpus([host]) == []
    assert cluster_summary([host]).gpus_unknown == 1


def test_users_view_counts_each_instance() -> None:
    host = snap(
        gpus=(mig_gpu(0),),
        gpu_processes=(
            on(7, 0, 9, owner="alice"),
            on(8, 0, 10, owner="alice"),
            on(9, 0, 10, owner="bob"),
        ),
    )
    rows = {row.owner: row for row in user_rows([host], {})}
    assert (rows["alice"].gpus, rows["alice"].processes) == (2, 2)
    assert rows["bob"].gpus == 1 and rows["bob"].mean_util is None


def test_users_view_mean_util_of_instances_when_known() -> None:
    g = mig_gpu(0, instance(0, 9, util=10.0), instance(1, 10, util=30.0))
    host = snap(gpus=(g,), gpu_processes=(on(7, 0, 9, owner="alice"), on(8, 0, 10, owner="alice")))
    assert user_rows([host], {})[0].mean_util == 20.0


JOB = ctr("alice-train", gpus=(0,))


def mig_host(time: float, util_9: float | None, util_10: float | None) -> HostSnapshot:
    """alice's container on instance GI 9 of GPU 0; GI 10 holds bob's process."""
    g = mig_gpu(0, instance(0, 9, 2000, util=util_9), instance(1, 10, 2000, util=util_10))
    return snap(
        time=time,
        gpus=(g,),
        gpu_processes=(on(100, 0, 9, container=JOB), on(101, 0, 10, owner="bob")),
        containers=(JOB,),
    )


def _both(history: list[HostSnapshot], stale_after: float) -> frozenset[str]:
    tracker = StaleTracker(stale_after, 5.0)
    for end in range(1, len(history) + 1):
        expected = stale_containers(history[:end], stale_after=stale_after, util_percent=5.0)
        assert tracker.update(history[end - 1]) == expected
    return stale_containers(history, stale_after=stale_after, util_percent=5.0)


def test_stale_rule_judges_a_mig_job_by_its_own_instance() -> None:
    # The whole GPU's utilisation is N/A under MIG and GI 10 is busy: only GI 9 counts.
    history = [mig_host(T0 + 60 * i, 0.0, 95.0) for i in range(31)]
    assert _both(history, 1800.0) == {JOB.id}
    busy = [*history[:-1], mig_host(T0 + 1800, 50.0, 0.0)]
    assert _both(busy, 1800.0) == frozenset()


def test_stale_rule_without_instance_utilisation_never_marks_a_mig_job() -> None:
    history = [mig_host(T0 + 60 * i, None, None) for i in range(31)]
    assert _both(history, 0.0) == frozenset()


def test_users_view_counts_a_containers_instance_not_its_whole_gpu() -> None:
    job = dataclasses.replace(ctr("bob-serve", gpus=(0,)))
    host = snap(gpus=(mig_gpu(0),), gpu_processes=(on(7, 0, 10, container=job),), containers=(job,))
    [row] = user_rows([host], {})
    assert (row.owner, row.gpus, row.containers_running) == ("bob", 1, 1)
