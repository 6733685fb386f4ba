"""The demo source: deterministic, realistic, with every trouble the UI must show."""

from __future__ import annotations

import asyncio

from clustertop.model import MIB, HostSnapshot, HostState, Section
from clustertop.sources.base import is_settled
from clustertop.sources.demo.cluster import HOSTILE_COMMAND
from clustertop.sources.demo.source import FROZEN_EPOCH, DemoSource
from tests.waiting import async_wait_for

GIB = 1024 * MIB


def _by_name(source: DemoSource, tick: int | None = None) -> dict[str, HostSnapshot]:
    return {snap.name: snap for snap in source.snapshots(tick)}


def test_lab_host_names_in_order() -> None:
    names = list(DemoSource(frozen=True).host_names)
    assert names[:16] == [f"gpu{n:02d}" for n in range(1, 17)]
    assert names[16:] == [
        "dgx-a",
        "dgx-b",
        "cpu01",
        "cpu02",
        "cpu03",
        "cpu04",
        "login",
        "storage01",
    ]


def test_same_seed_same_cluster_and_frozen_never_moves() -> None:
    first, second = DemoSource(seed=3, frozen=True), DemoSource(seed=3, frozen=True)
    assert first.snapshots() == second.snapshots()
    assert first.clock() == FROZEN_EPOCH
    assert all(snap.time == FROZEN_EPOCH for snap in first.snapshots())
    assert DemoSource(seed=4, frozen=True).snapshots() != first.snapshots()


def test_values_drift_with_the_tick() -> None:
    source = DemoSource(frozen=True)
    now, later = _by_name(source, 0), _by_name(source, 3)
    assert now["dgx-a"].gpus[0].util_percent != later["dgx-a"].gpus[0].util_percent
    assert now["dgx-a"].gpus[0].uuid == later["dgx-a"].gpus[0].uuid


def test_gpu_models_users_and_ownership() -> None:
    snaps = _by_name(DemoSource(frozen=True))
    models = {gpu.name for snap in snaps.values() for gpu in snap.gpus}
    assert models == {
        "NVIDIA RTX A6000",
        "NVIDIA GeForce RTX 4090",
        "NVIDIA L40S",
        "NVIDIA A100-SXM4-80GB",
        "NVIDIA H100 80GB HBM3",
    }
    for snap in snaps.values():
        ids = {ctr.id for ctr in snap.containers}
        for proc in snap.gpu_processes:
            assert proc.container is not None and proc.container.id in ids
            assert proc.owner and proc.gpu_uuid in {gpu.uuid for gpu in snap.gpus}
    labelled = [ctr for ctr in snaps["gpu09"].containers if ctr.labels.get("owner") == "chen"]
    assert labelled and labelled[0].name == "train-run-42"


def test_the_trouble_is_all_there() -> None:
    snaps = _by_name(DemoSource(frozen=True))
    assert (
        snaps["gpu07"].state is HostState.UNREACHABLE
        and snaps["gpu07"].error == "connection refused"
    )
    assert "couldn't communicate with the NVIDIA driver" in (snaps["gpu11"].gpu_error or "")
    assert snaps["gpu14"].stale == {Section.GPU: 14.0}
    assert snaps["cpu03"].stale == {Section.DISKS: 32.0}
    assert "permission denied" in (snaps["login"].docker_error or "")
    data = next(disk for disk in snaps["storage01"].disks if disk.mount == "/data")
    assert round(data.percent or 0) == 97
    assert any((ctr.log_size or 0) > 5 * GIB for ctr in snaps["gpu03"].containers)
    idle = [
        gpu
        for gpu in snaps["dgx-a"].gpus
        if gpu.util_percent == 0 and (gpu.memory_used or 0) > 50 * GIB
    ]
    assert len(idle) == 2
    exited = [ctr for snap in snaps.values() for ctr in snap.containers if ctr.state == "exited"]
    assert exited and all("weeks ago" in ctr.status for ctr in exited)
    commands = {proc.command for proc in snaps["gpu05"].processes}
    assert HOSTILE_COMMAND in commands and "nvidia-smi dmon -s pucm" in commands


async def test_run_emits_every_host_and_collect_once_settles() -> None:
    source = DemoSource(frozen=True, interval=0.05)
    seen: list[str] = []
    task = asyncio.create_task(source.run(lambda snap: seen.append(snap.name)))
    await async_wait_for(lambda: len(seen) >= 2 * len(source.host_names), what="two ticks")
    task.cancel()
    assert seen[: len(source.host_names)] == list(source.host_names)
    snaps = await DemoSource(frozen=True).collect_once(timeout=5)
    assert all(is_settled(snap) for snap in snaps)
