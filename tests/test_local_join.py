"""Joining the local sections: who owns a GPU process, which GPUs a container holds."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from clustertop.model import Container, ContainerRef, Gpu, GpuProcess, Process
from clustertop.model.owners import OwnerRule
from clustertop.sources.join import (
    attach_gpus,
    name_process_containers,
    requested_indices,
    resolve_gpu_processes,
)
from clustertop.sources.local.docker import gpu_request_of

A = "a" * 64
B = "b" * 64


def _container(cid: str, name: str, labels: dict[str, str] | None = None) -> Container:
    return Container(
        cid, name, "img", "running", "Up 1 minute", labels=MappingProxyType(labels or {})
    )


def _gpu(index: int) -> Gpu:
    return Gpu(index, f"GPU-{index}", "A100", None, None, None, None, None, None)


def _gpu_proc(pid: int, gpu: int, container: str | None, memory: int | None = None) -> GpuProcess:
    ref = ContainerRef(container, "") if container else None
    return GpuProcess(pid, gpu, f"GPU-{gpu}", memory, user="root", container=ref, start_time=10.0)


CONTAINERS = (_container(A, "alice-train"), _container(B, "shared-job", {"owner": "bob"}))
GPUS = (_gpu(0), _gpu(1), _gpu(2))


def test_gpu_process_owner_comes_from_label_then_container_name_then_unix_user() -> None:
    procs = [_gpu_proc(1, 0, A), _gpu_proc(2, 1, B), _gpu_proc(3, 2, None)]

    rows = resolve_gpu_processes(procs, CONTAINERS, cpu_percent={(1, 10.0): 99.5})

    assert [r.owner for r in rows] == ["alice", "bob", "root"]
    assert [r.container for r in rows] == [
        ContainerRef(A, "alice-train"),
        ContainerRef(B, "shared-job"),
        None,
    ]
    assert [r.cpu_percent for r in rows] == [99.5, None, None]


def test_owner_rule_without_unix_fallback_leaves_a_host_process_unowned() -> None:
    rule = OwnerRule(unix_user_fallback=False)

    [row] = resolve_gpu_processes([_gpu_proc(3, 0, None)], CONTAINERS, {}, rule)

    assert row.owner is None


def test_a_process_in_a_container_docker_no_longer_lists_keeps_the_bare_id() -> None:
    gone = "c" * 64
    proc = Process(7, "root", 1.0, 0.1, 100, 5.0, "sleep 9", ContainerRef(gone, ""))

    [row] = name_process_containers([proc], CONTAINERS)
    [gpu_row] = resolve_gpu_processes([_gpu_proc(7, 0, gone)], CONTAINERS, {})

    assert row.container == ContainerRef(gone, "")
    assert gpu_row.container == ContainerRef(gone, "") and gpu_row.owner == "root"


def test_processes_get_the_names_of_their_containers() -> None:
    proc = Process(7, "root", 1.0, 0.1, 100, 5.0, "top", ContainerRef(A, ""))

    [row] = name_process_containers([proc], CONTAINERS)

    assert row.container == ContainerRef(A, "alice-train")


def test_requests_resolve_all_indices_and_uuids_against_the_gpus_present() -> None:
    assert requested_indices("all", GPUS) == {0, 1, 2}
    assert requested_indices(("1",), GPUS) == {1}
    assert requested_indices(("GPU-2", "7"), GPUS) == {2}


def test_containers_get_requested_gpus_plus_the_gpus_their_processes_use() -> None:
    procs = [_gpu_proc(1, 2, A, 1000), _gpu_proc(2, 2, A, 500), _gpu_proc(3, 0, None, 9)]

    alice, bob = attach_gpus(CONTAINERS, {A: ("0",)}, GPUS, procs)

    assert alice.gpus == (0, 2)
    assert alice.gpu_memory_used == 1500
    assert bob.gpus == () and bob.gpu_memory_used is None


def test_gpu_requests_from_docker_run_gpus_and_from_the_nvidia_runtime() -> None:
    def inspect(host_config: Mapping[str, Any], env: list[str] | None = None) -> dict[str, Any]:
        return {"HostConfig": host_config, "Config": {"Env": env or []}}

    all_gpus = {"Driver": "", "Count": -1, "DeviceIDs": None, "Capabilities": [["gpu"]]}
    two = {"Driver": "nvidia", "Count": 0, "DeviceIDs": ["0", "GPU-2"], "Capabilities": []}
    assert gpu_request_of(inspect({"DeviceRequests": [all_gpus]})) == "all"
    assert gpu_request_of(inspect({"DeviceRequests": [two]})) == ("0", "GPU-2")
    nvidia = {"Runtime": "nvidia", "DeviceRequests": None}
    assert gpu_request_of(inspect(nvidia, ["NVIDIA_VISIBLE_DEVICES=1,2"])) == ("1", "2")
    assert gpu_request_of(inspect(nvidia, ["NVIDIA_VISIBLE_DEVICES=all"])) == "all"
    assert gpu_request_of(inspect(nvidia, ["NVIDIA_VISIBLE_DEVICES=void"])) == ()
    # The variable alone (set by CUDA images) means nothing under the default runtime.
    assert gpu_request_of(inspect({"Runtime": "runc"}, ["NVIDIA_VISIBLE_DEVICES=all"])) == ()
