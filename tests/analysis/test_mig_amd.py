"""A host with an NVIDIA GPU 0 in MIG mode and AMD GPUs 0 and 1: instances and AMD GPUs are
judged apart, though the indices repeat (processes placed by UUID)."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.free_gpus import free_gpus, free_gpus_json
from clustertop.analysis.idle import Observation, observe
from clustertop.analysis.summary import cluster_summary
from clustertop.analysis.users import user_rows
from clustertop.model import Gpu, GpuProcess, HostSnapshot
from tests.analysis.builders import ctr, gpu, proc, snap
from tests.analysis.test_mig import MIG_UUIDS, instance, mig_gpu, on

AMD_BUS = ("0000:83:00.0", "0000:c3:00.0")


def _amd(index: int, util: float = 0.0, mem_mib: int = 0) -> Gpu:
    base = gpu(index, util, mem_mib, name="AMD Instinct MI210", uuid=AMD_BUS[index])
    return dataclasses.replace(base, vendor="amd", bus_id=AMD_BUS[index])


def _on_amd(pid: int, index: int, **kwargs: object) -> GpuProcess:
    base = proc(pid, index, 20000, **kwargs)  # type: ignore[arg-type]
    return dataclasses.replace(base, gpu_uuid=AMD_BUS[index])


def _host(*procs: GpuProcess, amd_util: float = 0.0, **kwargs: object) -> HostSnapshot:
    gpus = (mig_gpu(0), _amd(0, amd_util, 20000 if procs else 0), _amd(1))
    return snap("mixed", gpus=gpus, gpu_processes=procs, **kwargs)  # type: ignore[arg-type]


def test_free_finder_lists_instances_and_amd_gpus_in_their_own_entries() -> None:
    # The AMD process is on AMD GPU 0; NVIDIA's GPU 0 (MIG) has no process of unknown instance.
    nvidia, amd = free_gpus([_host(_on_amd(7, 0, owner="bob"))])
    assert (nvidia.vendor, nvidia.indices, len(nvidia.instances)) == ("nvidia", (), 4)
    assert nvidia.ready_line == f"ssh mixed CUDA_VISIBLE_DEVICES={MIG_UUIDS[0]}"
    assert (amd.vendor, amd.indices, amd.instances) == ("amd", (1,), ())
    assert amd.ready_line == "ssh mixed HIP_VISIBLE_DEVICES=1"
    docs = free_gpus_json([nvidia, amd])
    assert [(d["vendor"], d["count"], d["mig_count"]) for d in docs] == [
        ("nvidia", 4, 4),
        ("amd", 1, 0),
    ]
    assert docs[0]["gpus"][0]["vendor"] == "nvidia" and docs[0]["gpus"][0]["mig"] is not None
    assert docs[1]["gpus"][0]["vendor"] == "amd" and docs[1]["gpus"][0]["mig"] is None


def test_summary_counts_instances_and_amd_gpus() -> None:
    summary = cluster_summary([_host(_on_amd(7, 0, owner="bob"))], {}, [])
    # Four instances of the MIG GPU and two AMD GPUs; the AMD GPU 0 is busy.
    assert (summary.gpus, summary.gpus_busy, summary.gpus_free) == (6, 1, 5)


def test_a_job_on_an_instance_is_judged_by_it_not_by_amd_gpu_0() -> None:
    job = ctr("alice-train", gpus=(0,))
    g = mig_gpu(0, instance(0, 9, 2000, util=0.0), instance(1, 10, 2000, util=95.0))
    host = snap(
        "mixed",
        gpus=(g, _amd(0, 99.0, 20000)),
        gpu_processes=(on(100, 0, 9, container=job), _on_amd(101, 0, owner="bob")),
        containers=(job,),
    )
    verdicts = observe(host, 5.0)
    assert verdicts is not None and verdicts[job.id][0] is Observation.IDLE


def test_users_count_an_instance_and_an_amd_gpu_apart() -> None:
    job = ctr("alice-train", gpus=(0,))
    host = _host(on(100, 0, 9, container=job), _on_amd(101, 0, owner="bob"), containers=(job,))
    rows = {row.owner: row for row in user_rows([host], {})}
    assert (rows["alice"].gpus, rows["alice"].containers_running) == (1, 1)
    assert (rows["bob"].gpus, rows["bob"].mean_util) == (1, 0.0)
