"""Free GPUs: the definition, the grouping and order, and the ready-to-paste ssh line."""

from __future__ import annotations

from dataclasses import replace

from clustertop.analysis.free_gpus import free_gpus, free_gpus_json
from clustertop.model import MIB, Gpu, HostState, Section
from tests.analysis.builders import ctr, gpu, proc, snap


def test_a_gpu_is_free_only_when_idle_empty_known_and_healthy() -> None:
    host = snap(
        "gpu01",
        gpus=(
            gpu(0, 0.0, 0),  # free
            gpu(1, 5.0, 500),  # free: both at the limits
            gpu(2, 5.1, 0),  # busy
            gpu(3, 0.0, 501),  # memory over the limit
            gpu(4, None, 0),  # utilisation unknown
            gpu(5, 0.0, None),  # memory unknown
            gpu(6, 0.0, 0, error="GPU is lost"),
            gpu(7, 0.0, 0),  # a process holding nothing yet still takes it
        ),
        gpu_processes=(proc(1, 7, 0),),
    )
    [entry] = free_gpus([host])
    assert entry.indices == (0, 1)
    assert entry.uuids == (gpu(0).uuid, gpu(1).uuid)
    assert entry.ready_line == "ssh gpu01 CUDA_VISIBLE_DEVICES=0,1"
    assert [g.memory_free for g in entry.gpus] == [81920 * MIB, (81920 - 500) * MIB]
    assert [g.name for g in entry.gpus] == ["NVIDIA A100-SXM4-80GB"] * 2


def test_limits_are_parameters() -> None:
    host = snap(gpus=(gpu(0, 20.0, 1000),))
    assert free_gpus([host]) == []
    [entry] = free_gpus([host], memory_mib=1000, util_percent=20)
    assert entry.indices == (0,)


def test_only_up_hosts_with_fresh_gpu_data_and_something_free_are_listed() -> None:
    idle = (gpu(0), gpu(1))
    hosts = [
        snap("down", state=HostState.UNREACHABLE, error="refused"),
        snap("stale", gpus=idle, stale={Section.GPU: 20.0}),
        snap("cpu-only"),
        snap("full", gpus=(gpu(0, 90.0, 9000),)),
        snap("ok", gpus=idle),
    ]
    assert [entry.host for entry in free_gpus(hosts)] == ["ok"]


def test_hosts_sort_by_free_count_then_free_memory_then_name() -> None:
    def small(index: int) -> Gpu:
        return gpu(index, total_mib=24564, name="NVIDIA GeForce RTX 4090")

    hosts = [
        snap("b-one-big", gpus=(gpu(0),)),
        snap("a-two-small", gpus=(small(0), small(1))),
        snap("c-two-big", gpus=(gpu(0), gpu(1), gpu(2, 99.0, 100))),
        snap("a-one-big", gpus=(gpu(0),)),
    ]
    order = [entry.host for entry in free_gpus(hosts)]
    assert order == ["c-two-big", "a-two-small", "a-one-big", "b-one-big"]


def test_the_host_is_quoted_for_the_shell_only_when_needed() -> None:
    [plain] = free_gpus([snap("alice@10.0.0.5", gpus=(gpu(3),))])
    assert plain.ready_line == "ssh alice@10.0.0.5 CUDA_VISIBLE_DEVICES=3"
    [odd] = free_gpus([snap("gpu 01;rm -rf ~", gpus=(gpu(2), gpu(3)))])
    assert odd.ready_line == "ssh 'gpu 01;rm -rf ~' CUDA_VISIBLE_DEVICES=2,3"


def test_hosts_mixing_gpu_models_get_pci_bus_order_for_cuda() -> None:
    mixed = snap("mixed", gpus=(gpu(0, name="NVIDIA A100-SXM4-80GB"), gpu(1, name="NVIDIA L40S")))
    [entry] = free_gpus([mixed])
    assert entry.ready_line == "ssh mixed CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0,1"


def test_container_gpus_alone_do_not_make_a_gpu_busy_but_its_memory_does() -> None:
    # A container that asked for GPU 0 but runs nothing on it leaves it free by this rule.
    host = snap(gpus=(gpu(0), gpu(1, 0.0, 3000)), containers=(ctr("bob-x", gpus=(0, 1)),))
    assert free_gpus([host])[0].indices == (0,)


def test_json_carries_everything_the_table_shows() -> None:
    [doc] = free_gpus_json(free_gpus([snap("gpu01", gpus=(gpu(2, 0.0, 100),))]))
    assert doc == {
        "host": "gpu01",
        "count": 1,
        "indices": [2],
        "uuids": [gpu(2).uuid],
        "memory_free": (81920 - 100) * MIB,
        "gpus": [
            {
                "index": 2,
                "uuid": gpu(2).uuid,
                "name": "NVIDIA A100-SXM4-80GB",
                "memory_free": (81920 - 100) * MIB,
                "memory_total": 81920 * MIB,
                "vendor": "nvidia",
                "mig": None,
                "ready_line": None,
            }
        ],
        "mig_count": 0,
        "ready_line": "ssh gpu01 CUDA_VISIBLE_DEVICES=2",
        "vendor": "nvidia",
    }


def _amd(index: int, util: float = 0.0, mem_mib: int = 0) -> Gpu:
    bus = f"0000:{0x03 + 0x40 * index:02x}:00.0"
    return replace(gpu(index, util, mem_mib, name="AMD Instinct MI210", uuid=bus), vendor="amd")


def test_amd_gpus_get_a_hip_ready_line_in_pci_bus_order() -> None:
    [entry] = free_gpus([snap("mi01", gpus=(_amd(0), _amd(1, 90.0), _amd(2)))])
    assert (entry.vendor, entry.indices) == ("amd", (0, 2))
    assert entry.ready_line == "ssh mi01 HIP_VISIBLE_DEVICES=0,2"
    assert free_gpus_json([entry])[0]["gpus"][0]["vendor"] == "amd"


def test_a_host_with_both_vendors_lists_both() -> None:
    host = snap(
        "mixed",
        gpus=(gpu(0), gpu(1, name="NVIDIA L40S", mem_mib=9000), _amd(0), _amd(1)),
        gpu_processes=(replace(proc(7, 0, 100), gpu_uuid=_amd(0).uuid),),
    )
    nvidia, amd = free_gpus([host])
    # Only NVIDIA models count for CUDA's order; the busy L40S still makes the models mixed.
    assert nvidia.ready_line == "ssh mixed CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=0"
    assert (amd.host, amd.vendor, amd.indices) == ("mixed", "amd", (1,))
    assert amd.ready_line == "ssh mixed HIP_VISIBLE_DEVICES=1"
