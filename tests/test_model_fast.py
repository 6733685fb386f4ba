"""model.fast: records made without dataclass __init__ equal those made with it, and stay frozen."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from clustertop.model import (
    Container,
    Cpu,
    Disk,
    Gpu,
    HostSnapshot,
    HostState,
    Memory,
    Section,
)
from clustertop.model.fast import maker, replacer


def _gpu(make: type[Gpu]) -> Gpu:
    return make(
        3, "GPU-1", "NVIDIA H100 80GB HBM3", 37.5, 10 << 20, 80 << 30, 41.0, 312.5, None,
        memory_util_percent=4.0, bus_id="00000000:19:00.0", error="XID error 79 (dcgm-exporter)",
    )  # fmt: skip


def _host(make: type[HostSnapshot], gpu: Gpu) -> HostSnapshot:
    return make(
        name="gpu00001", state=HostState.UP, time=1.8e9, data_time=1.8e9, hostname="gpu00001",
        cpu=Cpu(12.5, 10.0, 2.5, 0.0, 64), load=(1.0, 2.0, 3.0),
        memory=Memory(1 << 40, 1 << 30, 1 << 39), uptime_s=3600.0, gpus=(gpu,),
        containers=(Container("c1", "pod", "", "running", "running (cAdvisor)", gpus=(3,)),),
        disks=(Disk("/", "/dev/sda1", "ext4", 100, 50, 50, 10, 5),), gpu_error=None,
    )  # fmt: skip


def test_made_records_equal_the_dataclasses_own() -> None:
    gpu, fast_gpu = _gpu(Gpu), _gpu(maker(Gpu))
    host, fast_host = _host(HostSnapshot, gpu), _host(maker(HostSnapshot), fast_gpu)
    for ours, theirs in ((fast_gpu, gpu), (fast_host, host)):
        assert type(ours) is type(theirs)
        assert ours == theirs and repr(ours) == repr(theirs)
    assert hash(fast_gpu) == hash(gpu)  # (a snapshot holds dicts: not hashable either way)
    for cls, args in (
        (Cpu, (1.0, 2.0, 3.0)),
        (Memory, (10, 5)),
        (Disk, ("/", "d", "xfs", 1, 0, 1)),
        (Container, ("i", "n", "img", "running", "up")),
    ):
        assert maker(cls)(*args) == cls(*args)
        assert repr(maker(cls)(*args)) == repr(cls(*args))


def test_made_records_are_frozen_and_get_fresh_defaults() -> None:
    make = maker(HostSnapshot)
    one, two = make("a", HostState.UP, 1.0), make("a", HostState.UP, 1.0)
    assert one == HostSnapshot("a", HostState.UP, 1.0)
    assert one.stale == {} and one.stale is not two.stale  # default_factory: one each
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.name = "b"  # type: ignore[misc]
    given = {Section.GPU: 2.0}
    assert make("a", HostState.UP, 1.0, stale=given).stale is given


def test_replacer_equals_dataclasses_replace() -> None:
    host = _host(HostSnapshot, _gpu(Gpu))
    replace = replacer(HostSnapshot)
    for changes in ({}, {"time": 2e9}, {"time": 2e9, "state_since": 1.0, "uptime_s": None}):
        ours = replace(host, **changes)
        assert type(ours) is HostSnapshot
        assert ours == dataclasses.replace(host, **changes)
        assert repr(ours) == repr(dataclasses.replace(host, **changes))
    assert host.time == 1.8e9  # the record replaced is left as it was


@dataclass(frozen=True, slots=True)
class _Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class _NoSlots:
    value: int
    more: list[int] = field(default_factory=list)


def test_classes_whose_init_does_more_are_refused() -> None:
    with pytest.raises(TypeError, match="more than store"):
        maker(_Checked)
    with pytest.raises(TypeError, match="not a slotted dataclass"):
        maker(_NoSlots)
