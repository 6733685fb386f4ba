"""A host with NVIDIA and AMD GPUs: GPU indices repeat, the stale rule and users view still
name the right GPU (processes by UUID, a container's requested indices as NVIDIA's)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from clustertop.analysis.idle import Observation, observe
from clustertop.analysis.users import user_rows
from clustertop.model import Gpu, HostSnapshot
from tests.analysis.builders import ctr, gpu, proc, snap

AMD_BUS = "0000:83:00.0"


def _amd(index: int, util: float) -> Gpu:
    return replace(gpu(index, util, 20000, name="AMD Instinct MI210", uuid=AMD_BUS), vendor="amd")


def _host(nvidia_util: float, amd_util: float, amd_first: bool = False) -> HostSnapshot:
    job = ctr("alice-hip", gpus=(0,))
    on_amd = replace(proc(7, 0, 20000, container=job), gpu_uuid=AMD_BUS)
    gpus = (gpu(0, nvidia_util, 0), _amd(0, amd_util))
    return snap(
        "mixed",
        gpus=gpus[::-1] if amd_first else gpus,
        gpu_processes=(on_amd,),
        containers=(job,),
    )


@pytest.mark.parametrize("amd_first", [False, True])
def test_an_idle_amd_job_is_idle_whatever_nvidia_gpu_0_does(amd_first: bool) -> None:
    # The container's list holds 0 (its process's GPU): that is the AMD GPU 0, not NVIDIA's.
    verdicts = observe(_host(nvidia_util=99.0, amd_util=0.0, amd_first=amd_first), 5.0)
    assert verdicts is not None
    assert {v[0] for v in verdicts.values()} == {Observation.IDLE}


def test_a_busy_amd_job_is_active() -> None:
    verdicts = observe(_host(nvidia_util=0.0, amd_util=80.0), 5.0)
    assert verdicts is not None
    assert {v[0] for v in verdicts.values()} == {Observation.ACTIVE}


def test_users_count_the_amd_gpu_once_and_not_nvidia_gpu_0() -> None:
    [row] = user_rows([_host(nvidia_util=99.0, amd_util=0.0)], {})
    assert (row.owner, row.gpus, row.mean_util) == ("alice", 1, 0.0)
