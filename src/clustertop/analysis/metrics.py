"""What `clustertop export` serves: the fleet's snapshots as Prometheus metric families."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from clustertop.analysis.users import owner_name, user_rows
from clustertop.model import Gpu, HostSnapshot, Section

PREFIX = "clustertop_"
"""Every exported metric name starts with this."""


@dataclass(slots=True)
class Family:
    """One gauge family: its name, help, label names and samples (label values, value)."""

    name: str
    help: str
    labels: tuple[str, ...]
    samples: list[tuple[tuple[str, ...], float]] = field(default_factory=list)

    def add(self, values: Sequence[object], value: float | None) -> None:
        """One sample; unknown (None) values are left out rather than exported as 0."""
        if value is not None:
            self.samples.append((tuple("" if v is None else str(v) for v in values), value))


def _families(*specs: tuple[str, str, tuple[str, ...]]) -> dict[str, Family]:
    return {name: Family(PREFIX + name, help_, labels) for name, help_, labels in specs}


_HOST = ("host",)
_GPU = ("host", "gpu", "uuid", "name")


def _host_families() -> dict[str, Family]:
    return _families(
        ("host_up", "1 when clustertop reads the host over SSH, else 0.", _HOST),
        (
            "host_state",
            "Always 1; the host's connection state and why it is not up (reason).",
            ("host", "state", "reason"),
        ),
        ("host_section_error", "1 per part of a host that could not be read, with why.",
         ("host", "section", "reason")),
        ("host_cpu_percent", "Busy share of all CPUs, 0-100.", _HOST),
        ("host_load1", "1-minute load average.", _HOST),
        ("host_memory_total_bytes", "MemTotal.", _HOST),
        ("host_memory_used_bytes", "MemTotal - MemAvailable.", _HOST),
        ("host_latency_seconds", "Round trip of the last SSH reading.", _HOST),
    )  # fmt: skip


def _gpu_families() -> dict[str, Family]:
    return _families(
        ("gpu_utilization_percent", "GPU utilisation, 0-100.", _GPU),
        ("gpu_memory_used_bytes", "GPU memory in use.", _GPU),
        ("gpu_memory_total_bytes", "GPU memory.", _GPU),
        ("gpu_temperature_celsius", "GPU core temperature.", _GPU),
        ("gpu_power_watts", "GPU power draw.", _GPU),
        (
            "gpu_process_memory_bytes",
            "GPU memory held by one process, with its user, container and owner.",
            ("host", "gpu", "pid", "user", "container", "owner"),
        ),
        (
            "container_stale",
            "1 per running container whose GPUs idled longer than stale_after.",
            ("host", "container", "owner"),
        ),
    )


def _owner_families() -> dict[str, Family]:
    owner = ("owner",)
    return _families(
        ("owner_gpus", "GPUs where the owner has a process or running container.", owner),
        ("owner_gpu_memory_bytes", "GPU memory held by the owner's processes.", owner),
        ("owner_gpu_processes", "The owner's GPU processes.", owner),
        ("owner_containers_running", "The owner's running containers.", owner),
        ("owner_containers_stale", "The owner's stale containers.", owner),
    )


def _add_host(fams: dict[str, Family], snap: HostSnapshot) -> None:
    host = (snap.name,)
    fams["host_up"].add(host, 1.0 if snap.is_up else 0.0)
    fams["host_state"].add((snap.name, snap.state.value, snap.error or ""), 1.0)
    for section in Section:
        error = snap.error_of(section) if snap.is_up else None
        if error:
            fams["host_section_error"].add((snap.name, section.value, error), 1.0)
    if snap.cpu is not None:
        fams["host_cpu_percent"].add(host, snap.cpu.percent)
    if snap.load is not None:
        fams["host_load1"].add(host, snap.load[0])
    if snap.memory is not None:
        fams["host_memory_total_bytes"].add(host, snap.memory.total)
        fams["host_memory_used_bytes"].add(host, snap.memory.used)
    if snap.latency_ms is not None:
        fams["host_latency_seconds"].add(host, snap.latency_ms / 1000.0)


def _add_gpus(fams: dict[str, Family], snap: HostSnapshot, stale: frozenset[str]) -> None:
    for gpu in snap.gpus:
        labels = _gpu_labels(snap.name, gpu)
        fams["gpu_utilization_percent"].add(labels, gpu.util_percent)
        fams["gpu_memory_used_bytes"].add(labels, gpu.memory_used)
        fams["gpu_memory_total_bytes"].add(labels, gpu.memory_total)
        fams["gpu_temperature_celsius"].add(labels, gpu.temperature_c)
        fams["gpu_power_watts"].add(labels, gpu.power_w)
    for proc in snap.gpu_processes:
        ref = proc.container
        container = (ref.name or ref.id[:12]) if ref is not None else ""
        labels = (snap.name, proc.gpu_index, proc.pid, proc.user, container, owner_name(proc.owner))
        fams["gpu_process_memory_bytes"].add(labels, proc.memory_used)
    for ctr in snap.containers:
        if ctr.id in stale:
            fams["container_stale"].add((snap.name, ctr.name, owner_name(ctr.owner)), 1.0)


def _gpu_labels(host: str, gpu: Gpu) -> tuple[object, ...]:
    return (host, gpu.index, gpu.uuid, gpu.name)


def build_metrics(
    snapshots: Iterable[HostSnapshot], stale: Mapping[str, frozenset[str]]
) -> list[Family]:
    """Every exported family for these latest snapshots (`stale`: host -> stale container IDs).

    A host that is not up has only its state: its last readings are not passed off as current.
    """
    snaps = list(snapshots)
    fams = {**_host_families(), **_gpu_families(), **_owner_families()}
    for snap in snaps:
        _add_host(fams, snap)
        if snap.is_up:
            _add_gpus(fams, snap, stale.get(snap.name, frozenset()))
    for row in user_rows(snaps, stale):
        owner = (row.owner,)
        fams["owner_gpus"].add(owner, row.gpus)
        fams["owner_gpu_memory_bytes"].add(owner, row.gpu_memory)
        fams["owner_gpu_processes"].add(owner, row.processes)
        fams["owner_containers_running"].add(owner, row.containers_running)
        fams["owner_containers_stale"].add(owner, row.containers_stale)
    return list(fams.values())
