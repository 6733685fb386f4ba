"""Frozen, typed snapshots of one host: the model every layer shares."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from clustertop.model.attribution import Attribution
from clustertop.model.mig import MigInstance, MigRef
from clustertop.model.network import DiskIo, Interface, ListeningPort
from clustertop.model.nfs import NfsIo
from clustertop.model.slurm import SlurmState

MIB = 1024 * 1024
"""Bytes in one MiB (nvidia-smi reports memory in MiB)."""

EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})
"""Shared empty label mapping for containers without labels."""


class HostState(str, Enum):
    """Connection state of one host, as the JSON schema spells it."""

    CONNECTING = "connecting"
    UP = "up"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth-failed"
    HOSTKEY_FAILED = "hostkey-failed"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


WAITING_FOR_SLOT = "waiting for a connection slot"
"""The error text of a `connecting` host whose first attempt has not started yet."""
NOT_TRIED = "not tried before the deadline"
"""The error text of a host `--once` never got to try (its state is `timeout`)."""
STILL_CONNECTING = "still connecting at the deadline"
"""The error text of a host whose attempt `--once` had to cut short (state `timeout`)."""


class Section(str, Enum):
    """The independently collected parts of a host snapshot."""

    SYSTEM = "system"
    """CPU, load, memory."""
    GPU = "gpu"
    """GPUs and GPU processes."""
    DOCKER = "docker"
    """Containers."""
    PROCESSES = "processes"
    """Top processes."""
    DISKS = "disks"
    """Filesystems."""
    NETWORK = "network"
    """Interface traffic."""
    DISK_IO = "disk_io"
    """Block-device I/O."""
    PORTS = "ports"
    """Listening sockets."""

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class ContainerRef:
    """The container a process runs in."""

    id: str
    """Full 64-hex container ID."""
    name: str
    """Container name without the leading slash (empty when unknown)."""


@dataclass(frozen=True, slots=True)
class Cpu:
    """Host CPU use over the last interval."""

    percent: float | None
    """Busy share of all CPUs, 0-100."""
    user_percent: float | None
    """User (and nice) share, 0-100."""
    system_percent: float | None
    """Kernel share (system, irq, softirq), 0-100."""
    iowait_percent: float | None = None
    """Share of time waiting for I/O, 0-100."""
    count: int | None = None
    """Logical CPUs."""


@dataclass(frozen=True, slots=True)
class Memory:
    """Host memory and swap, in bytes."""

    total: int
    """MemTotal."""
    used: int
    """total - available (what applications hold)."""
    available: int | None = None
    """MemAvailable."""
    swap_total: int | None = None
    """SwapTotal."""
    swap_used: int | None = None
    """SwapTotal - SwapFree."""


@dataclass(frozen=True, slots=True)
class Gpu:
    """One GPU as nvidia-smi or NVML reports it."""

    index: int
    """nvidia-smi index."""
    uuid: str
    """GPU UUID (GPU-...)."""
    name: str
    """Product name."""
    util_percent: float | None
    """GPU utilisation, 0-100."""
    memory_used: int | None
    """Bytes of GPU memory in use."""
    memory_total: int | None
    """Bytes of GPU memory."""
    temperature_c: float | None
    """Core temperature in Celsius."""
    power_w: float | None
    """Power draw in watts."""
    power_limit_w: float | None
    """Power limit in watts."""
    fan_percent: float | None = None
    """Fan speed, 0-100 (None for passively cooled boards)."""
    memory_util_percent: float | None = None
    """Memory controller utilisation, 0-100."""
    bus_id: str | None = None
    """PCI bus ID."""
    ecc_uncorrected: int | None = None
    """Uncorrected ECC errors since the driver loaded (volatile)."""
    mig_mode: str | None = None
    """MIG mode ("Enabled"/"Disabled"), None when not supported."""
    error: str | None = None
    """Why this GPU could not be read (lost GPU, device handle error)."""
    vendor: str = "nvidia"
    """Who made it: "nvidia" or "amd" (an AMD GPU's index and uuid: see model/amd.py)."""
    mig_instances: tuple[MigInstance, ...] = ()
    """MIG devices of a partitioned GPU, by device index (empty when MIG is off or unknown)."""
    mig_error: str | None = None
    """Why the MIG instances of this GPU could not be read (GPU figures stay valid)."""
    reading_age_s: float | None = None
    """Seconds since the figures were read, where they come from a reading slower than the
    host's tick (an AMD host without sysfs: amd-smi metric every AMDMETRICEVERY ticks); None:
    read this tick."""


@dataclass(frozen=True, slots=True)
class GpuProcess:
    """A compute process on a GPU, with who owns it."""

    pid: int
    """Host PID."""
    gpu_index: int
    """Index of the GPU it runs on."""
    gpu_uuid: str
    """UUID of the GPU it runs on."""
    memory_used: int | None
    """Bytes of GPU memory it holds."""
    user: str | None = None
    """Unix user of the process."""
    command: str | None = None
    """Command line (or process name when the command line is unreadable)."""
    container: ContainerRef | None = None
    """Container the process runs in."""
    owner: str | None = None
    """Person the process belongs to (see owners.py)."""
    start_time: float | None = None
    """Unix time the process started (identity together with pid)."""
    cpu_percent: float | None = None
    """CPU use of the process, per core (may exceed 100)."""
    mig: MigRef | None = None
    """The MIG instance it runs in (None on a whole GPU or when unknown)."""
    attribution: Attribution | None = None
    """Slurm job, container, pod or session it belongs to, and who owns it by which rule."""


@dataclass(frozen=True, slots=True)
class Container:
    """One Docker or podman container, in any state."""

    id: str
    """Full 64-hex container ID."""
    name: str
    """Name without the leading slash."""
    image: str
    """Image reference as created."""
    state: str
    """running, exited, paused, restarting, created, dead."""
    status: str
    """Human status ("Up 3 minutes", "Exited (0) 2 days ago")."""
    cpu_percent: float | None = None
    """CPU use per core over the last interval (may exceed 100)."""
    memory_used: int | None = None
    """Bytes of memory (without page cache), as docker stats counts it."""
    gpus: tuple[int, ...] = ()
    """Indices of GPUs it uses (device requests or its GPU processes)."""
    owner: str | None = None
    """Person the container belongs to (see owners.py)."""
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY_LABELS)
    """Container labels."""
    created: float | None = None
    """Unix time the container was created."""
    started_at: float | None = None
    """Unix time it last started."""
    finished_at: float | None = None
    """Unix time it last exited."""
    exit_code: int | None = None
    """Exit code of the last run."""
    pid: int | None = None
    """Host PID of its main process while running."""
    log_size: int | None = None
    """Bytes in its json-file log."""
    gpu_memory_used: int | None = None
    """Bytes of GPU memory held by its processes."""
    mig: tuple[tuple[int, MigRef], ...] = ()
    """(GPU index, instance) of the MIG instances it holds where a source says so without
    processes (dcgm-exporter's pod labels on a GPU instance's series)."""
    engine: str = "docker"
    """Which engine runs it: "docker" or "podman" (the actions go to that engine's CLI)."""
    rootless_user: str | None = None
    """The Unix user whose rootless podman runs it, when that is not clustertop's own user."""


@dataclass(frozen=True, slots=True)
class Process:
    """One process in the top-like process list."""

    pid: int
    """Host PID."""
    user: str | None
    """Unix user."""
    cpu_percent: float | None
    """CPU use per core over the last interval (may exceed 100)."""
    memory_percent: float | None
    """Resident memory as a share of host memory."""
    memory_rss: int | None
    """Resident bytes."""
    start_time: float | None
    """Unix time the process started."""
    command: str
    """Command line, or the process name in brackets for kernel threads."""
    container: ContainerRef | None = None
    """Container the process runs in."""
    attribution: Attribution | None = None
    """Slurm job, container, pod or session it belongs to (None: its cgroup was not read)."""


@dataclass(frozen=True, slots=True)
class Disk:
    """One mounted local filesystem, in bytes."""

    mount: str
    """Mount point."""
    device: str
    """Device or source."""
    fstype: str
    """Filesystem type."""
    total: int
    """Size."""
    used: int
    """Used bytes."""
    available: int
    """Bytes available to unprivileged users."""
    inodes_total: int | None = None
    """Inodes in the filesystem."""
    inodes_used: int | None = None
    """Inodes in use."""

    @property
    def percent(self) -> float | None:
        """Use as df computes it: used / (used + available)."""
        denominator = self.used + self.available
        return 100.0 * self.used / denominator if denominator > 0 else None


@dataclass(frozen=True, slots=True)
class HostSnapshot:
    """Everything known about one host at one moment."""

    name: str
    """Host name as the user gave it (alias, address or "localhost")."""
    state: HostState
    """Connection state."""
    time: float
    """Unix time of the snapshot."""
    error: str | None = None
    """Why the host is not up, readable."""
    latency_ms: float | None = None
    """Round trip of the last frame (SSH) or collection time (local)."""
    state_since: float | None = None
    """Unix time the current state began."""
    data_time: float | None = None
    """Unix time of the newest data (data age when not up)."""
    hostname: str | None = None
    """The host's own name (uname -n)."""
    cpu: Cpu | None = None
    """CPU use; None until two samples exist."""
    load: tuple[float, float, float] | None = None
    """1, 5 and 15 minute load averages."""
    memory: Memory | None = None
    """Memory and swap."""
    uptime_s: float | None = None
    """Seconds since boot."""
    gpus: tuple[Gpu, ...] = ()
    """GPUs."""
    gpu_processes: tuple[GpuProcess, ...] = ()
    """Compute processes on the GPUs."""
    gpu_error: str | None = None
    """Why GPUs could not be read (no driver, NVML failure, timeout)."""
    containers: tuple[Container, ...] = ()
    """All containers, exited too."""
    docker_error: str | None = None
    """Why containers could not be read."""
    processes: tuple[Process, ...] = ()
    """Top processes (by CPU and by memory)."""
    processes_error: str | None = None
    """Why processes could not be read."""
    disks: tuple[Disk, ...] = ()
    """Local filesystems."""
    disks_error: str | None = None
    """Why disks could not be read."""
    system_error: str | None = None
    """Why CPU, load or memory could not be read."""
    stale: Mapping[Section, float] = field(default_factory=dict)
    """Sections whose data is older than one tick: section -> age in seconds."""
    waiting: frozenset[Section] = frozenset()
    """Sections whose first reading has not arrived yet (neither data nor an error)."""
    interfaces: tuple[Interface, ...] = ()
    """Network interfaces with their rates."""
    network_error: str | None = None
    """Why interfaces could not be read."""
    disk_io: tuple[DiskIo, ...] = ()
    """Block devices with their I/O rates."""
    disk_io_error: str | None = None
    """Why block-device I/O could not be read."""
    ports: tuple[ListeningPort, ...] = ()
    """Listening sockets."""
    ports_error: str | None = None
    """Why listening sockets could not be read."""
    slurm: SlurmState | None = None
    """The host's Slurm jobs (None: the host runs no slurmd)."""
    nfs_io: tuple[NfsIo, ...] = ()
    """NFS mounts with their bytes read and written (from /proc/self/mountstats)."""
    podman_error: str | None = None
    """Why podman's containers could not be listed (None: listed, or no podman on the host)."""

    @property
    def is_up(self) -> bool:
        """True when the host answered."""
        return self.state is HostState.UP

    def error_of(self, section: Section) -> str | None:
        """The error of one section."""
        error: str | None = getattr(self, _ERROR_FIELD[section])
        return error


_ERROR_FIELD = {
    Section.SYSTEM: "system_error",
    Section.GPU: "gpu_error",
    Section.DOCKER: "docker_error",
    Section.PROCESSES: "processes_error",
    Section.DISKS: "disks_error",
    Section.NETWORK: "network_error",
    Section.DISK_IO: "disk_io_error",
    Section.PORTS: "ports_error",
}
"""Each section's error field (error_of runs for every section of every host each repaint)."""


def by_cpu_then_memory(processes: Iterable[Process]) -> tuple[Process, ...]:
    """Top-like order: busiest first, then largest; unknown CPU counts as 0."""
    return tuple(
        sorted(processes, key=lambda p: (p.cpu_percent or 0.0, p.memory_rss or 0), reverse=True)
    )


def placeholder(name: str, state: HostState, now: float, error: str | None = None) -> HostSnapshot:
    """A snapshot for a host with no data (connecting, down, failed)."""
    return HostSnapshot(name=name, state=state, time=now, error=error, state_since=now)
