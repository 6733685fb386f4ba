"""The alert rules: what in one host snapshot deserves someone's attention, in plain words."""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from clustertop.model import Gpu, HostSnapshot, HostState
from clustertop.util.textsafe import printable
from clustertop.util.units import human_bytes

if TYPE_CHECKING:
    from clustertop.config.settings import Config


class AlertKind(str, Enum):
    """What an alert is about."""

    HOST_DOWN = "host-down"
    """Unreachable, timed out, authentication or host key failed, or another error."""
    GPU_DRIVER = "gpu-driver"
    """GPUs could not be read (driver not loaded, NVML failure, nvidia-smi hung)."""
    GPU_LOST = "gpu-lost"
    """One GPU reports an error (fell off the bus, unreadable)."""
    GPU_TEMPERATURE = "gpu-temperature"
    """A GPU at or above the temperature limit."""
    GPU_ECC = "gpu-ecc"
    """Uncorrected ECC errors on a GPU."""
    DISK_FULL = "disk-full"
    """A filesystem at or above the disk limit."""
    INODES_FULL = "inodes-full"
    """A filesystem's inodes at or above the disk limit."""
    CONTAINER_LOG = "container-log"
    """A container's log file at or above the log size limit."""
    DOCKER_DOWN = "docker-down"
    """The Docker daemon is down or does not answer."""
    STALE_CONTAINER = "stale-container"
    """A container holds GPU memory on idle GPUs."""
    DISK_BUSY = "disk-busy"
    """A block device busy near 100 % for minutes (I/O is the bottleneck)."""
    STALE_MIG = "stale-mig-instance"
    """A MIG instance holds memory while its own utilisation stayed idle (analysis/stale_mig)."""

    def __str__(self) -> str:
        return self.value


class Severity(str, Enum):
    """How urgent an alert is."""

    INFO = "info"
    """Worth a look (a stale container)."""
    WARNING = "warning"
    """Will hurt soon (disk filling, hot GPU, Docker down)."""
    CRITICAL = "critical"
    """Hurts now (host down, GPU lost, driver failed, memory corrupted)."""

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """0 for critical, 1 for warning, 2 for info: sorts the urgent first."""
        return _RANK[self]


_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}

SEVERITY: Mapping[AlertKind, Severity] = {
    AlertKind.HOST_DOWN: Severity.CRITICAL,
    AlertKind.GPU_DRIVER: Severity.CRITICAL,
    AlertKind.GPU_LOST: Severity.CRITICAL,
    AlertKind.GPU_ECC: Severity.CRITICAL,
    AlertKind.GPU_TEMPERATURE: Severity.WARNING,
    AlertKind.DISK_FULL: Severity.WARNING,
    AlertKind.INODES_FULL: Severity.WARNING,
    AlertKind.CONTAINER_LOG: Severity.WARNING,
    AlertKind.DOCKER_DOWN: Severity.WARNING,
    AlertKind.STALE_CONTAINER: Severity.INFO,
    AlertKind.DISK_BUSY: Severity.WARNING,
    AlertKind.STALE_MIG: Severity.INFO,
}
"""The fixed severity of each kind."""

# Texts the sources produce for a host set up without GPUs or Docker: facts, not alarms.
_GPU_FACTS = ("nvidia-smi not installed", "nvidia-ml-py (pynvml) not installed")
_NO_GPU_FOUND = "no NVIDIA GPU found"
_DOCKER_FACTS = ("docker not installed", "docker SDK not installed")
_DOCKER_DENIED = "permission denied"


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """The limits the rules compare against."""

    temperature_c: float = 85.0
    """GPU temperature that raises an alert, Celsius."""
    disk_percent: float = 90.0
    """Disk (and inode) use that raises an alert, percent."""
    log_size: int = 2**30
    """Container log size that raises an alert, bytes."""
    temperature_clear_c: float = 3.0
    """How far under the limit a hot GPU must cool before its alert clears, Celsius (a GPU
    hovering at the limit would otherwise raise a new alert, and ring, every few ticks)."""
    disk_clear_percent: float = 2.0
    """How far under the limit a full disk (or its inodes) must drop before its alert clears,
    percentage points."""
    disk_busy_s: float = 180.0
    """Seconds a device must stay busy near 100 % (DiskBusyTracker) before it alerts."""

    @classmethod
    def from_config(cls, config: Config) -> AlertThresholds:
        """The thresholds a config sets."""
        return cls(config.alert_temperature_c, config.alert_disk_percent, config.alert_log_size)


@dataclass(frozen=True, slots=True)
class Finding:
    """One alert condition found in a snapshot."""

    kind: AlertKind
    """What it is about."""
    subject: str
    """Which thing on the host (GPU UUID, mount point, container ID; '' for the host)."""
    message: str
    """Plain one-line text."""
    since: float | None = None
    """When the condition began, when the snapshot tells (host state, idle run)."""


def gpu_error_is_alarm(error: str, had_gpus: bool) -> bool:
    """False for a host without GPU software; "no GPU found" alarms only where GPUs were seen."""
    if error in _GPU_FACTS:
        return False
    return had_gpus if error.startswith(_NO_GPU_FOUND) else True


def docker_error_is_alarm(error: str) -> bool:
    """True when the daemon is down or hangs; not for no Docker or no permission to use it.

    "docker not installed" and "docker SDK not installed" are set-up facts. Permission denied on
    the socket (the SSH-only user outside the docker group) is a fact about the user, true on
    every host for as long as they run clustertop: an alarm there would only be noise.
    """
    return error not in _DOCKER_FACTS and not error.lower().startswith(_DOCKER_DENIED)


def _plain(value: str) -> str:
    # str.isprintable is False for every character printable() escapes, and is far cheaper.
    return value if value.isprintable() else printable(value)


def host_findings(
    snap: HostSnapshot,
    limits: AlertThresholds,
    *,
    had_gpus: bool = False,
    stale_ids: frozenset[str] = frozenset(),
    idle_since: Callable[[str], float | None] | None = None,
    active: Container[tuple[AlertKind, str]] = frozenset(),
    busy_since: Mapping[str, float] | None = None,
) -> list[Finding]:
    """Every alert condition of one snapshot; O(GPUs + disks + containers).

    `active` holds the (kind, subject) of the host's alerts that are raised now: a temperature,
    disk or inode alert among them stays until its value is a margin under the limit.
    `busy_since` maps a block device to the start of its busy run (DiskBusyTracker).
    """
    found: list[Finding] = []
    if snap.state is HostState.CONNECTING:
        return found
    if not snap.is_up:
        reason = f": {_plain(snap.error)}" if snap.error else ""
        text = f"host {snap.state.value}{reason}"
        found.append(Finding(AlertKind.HOST_DOWN, "", text, snap.state_since))
        return found
    if snap.gpu_error and gpu_error_is_alarm(snap.gpu_error, had_gpus or bool(snap.gpus)):
        text = f"GPUs unreadable: {_plain(snap.gpu_error)}"
        found.append(Finding(AlertKind.GPU_DRIVER, "", text))
    _gpu_findings(snap, limits, active, found)
    _disk_findings(snap, limits, active, found)
    if snap.docker_error and docker_error_is_alarm(snap.docker_error):
        found.append(Finding(AlertKind.DOCKER_DOWN, "", f"Docker: {_plain(snap.docker_error)}"))
    _container_findings(snap, limits, stale_ids, idle_since, found)
    _busy_findings(snap.time, limits, busy_since or {}, found)
    return found


def _busy_findings(
    now: float, limits: AlertThresholds, busy_since: Mapping[str, float], found: list[Finding]
) -> None:
    for device, since in busy_since.items():
        if now - since >= limits.disk_busy_s:
            text = f"disk {_plain(device)} busy near 100 % for {(now - since) / 60:.0f} min"
            found.append(Finding(AlertKind.DISK_BUSY, device, text, since))


def _gpu_label(gpu: Gpu) -> str:
    return f"GPU {gpu.index}" + (f" ({_plain(gpu.name)})" if gpu.name else "")


def _over(value: float, limit: float, margin: float, raised: bool) -> bool:
    # Raised at the limit; once raised, it holds until the value is `margin` under it.
    return value > limit - margin if raised else value >= limit


def _gpu_findings(
    snap: HostSnapshot,
    limits: AlertThresholds,
    active: Container[tuple[AlertKind, str]],
    found: list[Finding],
) -> None:
    for gpu in snap.gpus:
        subject = gpu.uuid or f"index {gpu.index}"
        if gpu.error:
            text = f"{_gpu_label(gpu)}: {_plain(gpu.error)}"
            found.append(Finding(AlertKind.GPU_LOST, subject, text))
        hot = gpu.temperature_c
        kind = AlertKind.GPU_TEMPERATURE
        raised = (kind, subject) in active
        if hot is not None and _over(hot, limits.temperature_c, limits.temperature_clear_c, raised):
            text = f"{_gpu_label(gpu)} at {hot:.0f} °C (limit {limits.temperature_c:.0f} °C)"
            found.append(Finding(kind, subject, text))
        if gpu.ecc_uncorrected:
            text = (
                f"{_gpu_label(gpu)}: {gpu.ecc_uncorrected} uncorrected ECC errors"
                " since the driver loaded"
            )
            found.append(Finding(AlertKind.GPU_ECC, subject, text))


def _disk_findings(
    snap: HostSnapshot,
    limits: AlertThresholds,
    active: Container[tuple[AlertKind, str]],
    found: list[Finding],
) -> None:
    full, inodes_full = AlertKind.DISK_FULL, AlertKind.INODES_FULL
    margin = limits.disk_clear_percent
    for disk in snap.disks:
        used = disk.percent
        raised = (full, disk.mount) in active
        if used is not None and _over(used, limits.disk_percent, margin, raised):
            text = f"{_plain(disk.mount)} {used:.0f}% full ({human_bytes(disk.available)} free)"
            found.append(Finding(full, disk.mount, text))
        total, inodes = disk.inodes_total, disk.inodes_used
        if total and inodes is not None:
            share = 100.0 * inodes / total
            raised = (inodes_full, disk.mount) in active
            if _over(share, limits.disk_percent, margin, raised):
                text = f"{_plain(disk.mount)} inodes {share:.0f}% used ({total - inodes} free)"
                found.append(Finding(inodes_full, disk.mount, text))


def _container_findings(
    snap: HostSnapshot,
    limits: AlertThresholds,
    stale_ids: frozenset[str],
    idle_since: Callable[[str], float | None] | None,
    found: list[Finding],
) -> None:
    for ctr in snap.containers:
        if ctr.log_size is not None and ctr.log_size >= limits.log_size:
            text = (
                f"container {_plain(ctr.name)} log is {human_bytes(ctr.log_size)}"
                " (docker logs can fill the disk)"
            )
            found.append(Finding(AlertKind.CONTAINER_LOG, ctr.id, text))
        if ctr.id in stale_ids:
            since = idle_since(ctr.id) if idle_since is not None else None
            text = _stale_text(ctr.name, ctr.owner, ctr.gpus, ctr.gpu_memory_used)
            found.append(Finding(AlertKind.STALE_CONTAINER, ctr.id, text, since))


@functools.lru_cache(maxsize=4096)
def _stale_text(name: str, owner: str | None, gpus: tuple[int, ...], held: int | None) -> str:
    # Cached: a stale container raises the same text every tick. How long it has been idle
    # is the alert's `since`, so the text stays the same while the alert lasts.
    who = f" ({_plain(owner)})" if owner else ""
    indices = ",".join(str(index) for index in gpus) or "?"
    amount = human_bytes(held) if held else "some"
    return f"container {_plain(name)}{who} holds {amount} of GPU memory, GPU {indices} idle"
