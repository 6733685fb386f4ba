"""Each `--once --json` writer covers every field of its dataclass, or says why it leaves one out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest

from clustertop import model
from clustertop.cli import json_netio, once_json
from clustertop.model import (
    Container,
    ContainerRef,
    Cpu,
    Disk,
    Gpu,
    GpuProcess,
    HostSnapshot,
    HostState,
    Memory,
    Process,
    Section,
)
from clustertop.model.attribution import Attribution
from clustertop.model.mig import MigInstance, MigRef
from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    ListeningPort,
    NetCounters,
)
from clustertop.model.nfs import NfsCounters, NfsIo

REF = ContainerRef(id="c0ffee", name="train-alice")
ATTRIBUTION = Attribution(
    kind="slurm",
    id="748468",
    name="train",
    owner="alice",
    via="job-user",
    step="0",
    uid=1001,
    container_id="c0ffee",
    gpus=(1, 2),
    account="physics",
    namespace="ml",
    partition="gpu",
)
GPU = Gpu(
    index=1,
    uuid="GPU-1",
    name="NVIDIA H200",
    util_percent=97.0,
    memory_used=1 << 30,
    memory_total=2 << 30,
    temperature_c=61.0,
    power_w=612.5,
    power_limit_w=700.0,
    fan_percent=33.0,
    memory_util_percent=41.0,
    bus_id="00000000:18:00.0",
    ecc_uncorrected=2,
    mig_mode="Disabled",
    error="fell off the bus",
    mig_instances=(
        MigInstance(
            device_index=0,
            gpu_instance_id=2,
            compute_instance_id=0,
            profile="3g.40gb",
            uuid="MIG-1",
            memory_used=5 << 20,
            memory_total=40 << 30,
            multiprocessor_count=60,
            placement=(0, 4),
            util_percent=12.0,
            error="no error really",
        ),
    ),
    mig_error="MIG devices not readable: Insufficient Permissions",
)
GPU_PROCESS = GpuProcess(
    pid=4242,
    gpu_index=1,
    gpu_uuid="GPU-1",
    memory_used=3 << 20,
    user="alice",
    command="python train.py",
    container=REF,
    owner="alice",
    start_time=1_700_000_000.5,
    cpu_percent=88.0,
    mig=MigRef(2, 0, "MIG-1"),
    attribution=ATTRIBUTION,
)
CONTAINER = Container(
    id="c0ffee",
    name="train-alice",
    image="pytorch:24.05",
    state="running",
    status="Up 2 hours",
    cpu_percent=150.0,
    memory_used=5 << 30,
    gpus=(0, 1),
    owner="alice",
    labels={"owner": "alice"},
    created=1_700_000_001.0,
    started_at=1_700_000_002.0,
    finished_at=1_700_000_003.0,
    exit_code=137,
    pid=4000,
    log_size=12345,
    gpu_memory_used=7 << 20,
)
PROCESS = Process(
    pid=4243,
    user="bob",
    cpu_percent=12.5,
    memory_percent=3.25,
    memory_rss=9 << 20,
    start_time=1_700_000_004.0,
    command="sleep 600",
    container=REF,
    attribution=ATTRIBUTION,
)
DISK = Disk(
    mount="/data",
    device="/dev/nvme0n1p1",
    fstype="ext4",
    total=1000,
    used=600,
    available=300,
    inodes_total=100,
    inodes_used=40,
)
CPU = Cpu(percent=50.0, user_percent=40.0, system_percent=9.0, iowait_percent=1.0, count=64)
MEMORY = Memory(total=1 << 40, used=1 << 39, available=1 << 38, swap_total=1 << 33, swap_used=5)
INTERFACE = Interface(
    NetCounters("eth0", 1, 2, 3, 4, 5, 6, 7, 8), InterfaceKind.PHYSICAL, rx_rate=9.0, tx_rate=10.0
)
DISK_IO = DiskIo(
    DiskCounters("sda", 1, 2, 3, 4, 5),
    read_rate=1024.0,
    write_rate=2048.0,
    read_iops=1.0,
    write_iops=2.0,
    busy_percent=97.5,
)
PORT = ListeningPort(
    protocol="tcp6",
    address="::",
    port=8888,
    uid=1000,
    inode=4242,
    user="alice",
    pid=4000,
    process="jupyter-lab",
    container="train-alice",
    reach_address="172.17.0.2",
    note=None,
)
SNAPSHOT = HostSnapshot(
    name="h1",
    state=HostState.UP,
    time=1_700_000_010.0,
    error="no error really",
    latency_ms=12.5,
    state_since=1_700_000_000.0,
    data_time=1_700_000_009.0,
    hostname="gpu-node-1",
    cpu=CPU,
    load=(1.0, 2.0, 3.0),
    memory=MEMORY,
    uptime_s=86400.0,
    gpus=(GPU,),
    gpu_processes=(GPU_PROCESS,),
    gpu_error="gpu: timed out",
    containers=(CONTAINER,),
    docker_error="docker: permission denied",
    processes=(PROCESS,),
    processes_error="procs: cut",
    disks=(DISK,),
    disks_error="df: hung",
    system_error="sys: unreadable",
    stale={Section.DOCKER: 4.26},
    waiting=frozenset({Section.DISKS}),
    interfaces=(INTERFACE,),
    network_error="net: half read",
    disk_io=(DISK_IO,),
    disk_io_error="diskstats: odd",
    ports=(PORT,),
    ports_error="tcp6: unreadable",
)

RENAMED: Mapping[type, Mapping[str, str]] = {
    HostSnapshot: {"stale": "stale_sections"},
}
"""Field -> the JSON key that carries it under another name."""

NOT_WRITTEN: Mapping[type, Mapping[str, str]] = {
    HostSnapshot: {
        # The document's top-level "time" says when it was written; per host, "data_time" is
        # the moment that matters (how old the shown data is).
        "time": "the document's own 'time' key carries it",
        # How long a host has been in its state is a live-view notion (the grid's "for 3 m");
        # a one-shot document has no earlier state to compare with.
        "state_since": "live view only (state duration)",
        # --once waits until no section is waiting (sources.base.is_settled); a section still
        # waiting at the deadline is written empty, without saying so: a possible schema
        # addition (a new key), left for a change that may alter the output.
        "waiting": "--once waits for it to empty; not in schema v1",
    },
}
"""Fields a writer leaves out on purpose, with the reason (schema v1 stays as it is)."""

EXTRA_KEYS: Mapping[type, frozenset[str]] = {
    # cpu.percent again, flat, for simple consumers; the grid's network total likewise; the Slurm
    # jobs its processes belong to.
    HostSnapshot: frozenset({"cpu_percent", "network_rx_rate", "network_tx_rate", "slurm_jobs"}),
    Container: frozenset({"stale"}),  # not a field: the caller knows the container went away
    Disk: frozenset({"percent"}),  # the Disk.percent property (used of used + available), as df
}
"""JSON keys that are not fields of the dataclass."""


def _plain(value: Any) -> Any:
    """A field value as the JSON writers render it."""
    if isinstance(value, HostState):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, (MigInstance, MigRef)):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, ContainerRef):
        return {"id": value.id, "name": value.name}
    if isinstance(value, Attribution):  # its own fields: test_attribution_writes_every_field
        return once_json.attribution_json(value)
    if isinstance(value, Mapping):
        return {str(k.value if isinstance(k, Section) else k): v for k, v in value.items()}
    return value


def _check(instance: Any, written: Mapping[str, Any], nested: frozenset[str] = frozenset()) -> None:
    """Every field is written (or listed as left out), under its key, with its value."""
    cls = type(instance)
    renamed, left_out = RENAMED.get(cls, {}), NOT_WRITTEN.get(cls, {})
    names = [f.name for f in dataclasses.fields(cls)]
    assert set(left_out) <= set(names), "NOT_WRITTEN names a field that no longer exists"
    expected = {renamed.get(n, n) for n in names if n not in left_out}
    assert set(written) == expected | EXTRA_KEYS.get(cls, frozenset()), cls.__name__
    for name in names:
        if name in left_out or name in nested:
            continue
        value = _plain(getattr(instance, name))
        if name == "stale":
            value = {k: round(v, 1) for k, v in value.items()}
        assert written[renamed.get(name, name)] == value, f"{cls.__name__}.{name}"


@pytest.mark.parametrize(
    ("instance", "written"),
    [
        (GPU, once_json.gpu_json(GPU)),
        (GPU_PROCESS, once_json.gpu_process_json(GPU_PROCESS)),
        (CONTAINER, once_json.container_json(CONTAINER)),
        (PROCESS, once_json.process_json(PROCESS)),
        (DISK, once_json.disk_json(DISK)),
    ],
    ids=["Gpu", "GpuProcess", "Container", "Process", "Disk"],
)
def test_each_writer_covers_every_field_of_its_dataclass(
    instance: Any, written: dict[str, Any]
) -> None:
    _check(instance, written)
    for key in EXTRA_KEYS.get(type(instance), frozenset()) & {"percent"}:
        assert written[key] == getattr(instance, key)


def test_the_host_writer_covers_every_field_of_the_snapshot_and_its_parts() -> None:
    written = once_json.host_json(SNAPSHOT)
    sequences = frozenset({"cpu", "memory", "gpus", "gpu_processes", "containers", "processes"})
    netio = frozenset({"interfaces", "disk_io", "ports", "nfs_io"})
    _check(SNAPSHOT, written, nested=sequences | netio | {"disks"})
    _check(CPU, written["cpu"])
    _check(MEMORY, written["memory"])
    assert written["cpu_percent"] == CPU.percent
    assert written["gpus"] == [once_json.gpu_json(GPU)]
    assert written["gpu_processes"] == [once_json.gpu_process_json(GPU_PROCESS)]
    assert written["containers"] == [once_json.container_json(CONTAINER)]
    assert written["processes"] == [once_json.process_json(PROCESS)]
    assert written["disks"] == [once_json.disk_json(DISK)]
    assert written["interfaces"] == [json_netio.interface_json(INTERFACE)]
    assert written["disk_io"] == [json_netio.disk_io_json(DISK_IO)]
    assert written["ports"] == [json_netio.port_json(PORT)]
    assert (written["network_rx_rate"], written["network_tx_rate"]) == (9.0, 10.0)


def test_network_io_and_port_writers_cover_every_field() -> None:
    _check(PORT, json_netio.port_json(PORT))
    interface = json_netio.interface_json(INTERFACE)
    _check(
        INTERFACE.counters,
        {k: v for k, v in interface.items() if k not in ("kind", "rx_rate", "tx_rate")},
    )
    assert (interface["kind"], interface["rx_rate"], interface["tx_rate"]) == (
        "physical",
        9.0,
        10.0,
    )
    device = json_netio.disk_io_json(DISK_IO)
    assert (device["read_bytes"], device["write_bytes"], device["busy_ms"]) == (1024, 2048, 5)
    assert (device["read_rate"], device["busy_percent"]) == (1024.0, 97.5)
    assert device["mapper"] == DISK_IO.mapper
    nfs = NfsIo(NfsCounters("/mnt/data", "srv:/export", 4096, 8192), 10.0, 20.0)
    written = json_netio.nfs_io_json(nfs)
    _check(nfs.counters, {k: v for k, v in written.items() if k not in ("read_rate", "write_rate")})
    assert (written["read_rate"], written["write_rate"]) == (10.0, 20.0)


def test_container_refs_write_every_field() -> None:
    _check(REF, once_json.gpu_process_json(GPU_PROCESS)["container"])


def test_attribution_writes_every_field() -> None:
    _check(ATTRIBUTION, once_json.gpu_process_json(GPU_PROCESS)["attribution"])
    assert once_json.process_json(PROCESS)["attribution"] == once_json.attribution_json(ATTRIBUTION)


def test_every_model_dataclass_is_checked_here() -> None:
    """A new dataclass in clustertop.model must get its writer's check in this file."""
    checked = {Gpu, GpuProcess, Container, Process, Disk, HostSnapshot, Cpu, Memory, ContainerRef}
    in_model = {
        obj
        for obj in vars(model).values()
        if isinstance(obj, type)
        and dataclasses.is_dataclass(obj)
        and obj.__module__ == model.__name__
    }
    assert in_model - checked == set(), "model dataclasses this test does not cover"
