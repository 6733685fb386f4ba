"""Raw probe sections to model values: each function reads one section's text."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clustertop.model import Container, ContainerRef, Disk, Gpu, Memory
from clustertop.model.attribution import Attribution
from clustertop.model.fast import replacer
from clustertop.model.owners import OwnerRule
from clustertop.parsers.df import local_disks, parse_df, parse_df_inodes
from clustertop.parsers.docker import container_from_inspect, docker_error, requested_gpus
from clustertop.parsers.mig_sample import MigReading, parse_probe_mig
from clustertop.parsers.nvidia_smi import (
    GpuApp,
    nvidia_smi_error,
    parse_apps_query,
    parse_gpu_query,
)
from clustertop.parsers.procfs import (
    CpuSample,
    cap_args,
    parse_loadavg,
    parse_meminfo,
    parse_proc_stat,
)
from clustertop.sources.join import GpuRequest
from clustertop.sources.ssh.amd import AmdReading, keep_tool, read_amd
from clustertop.sources.ssh.podman import read_podman
from clustertop.sources.ssh.probe import PROBE_APPS_FIELDS, PROBE_GPU_FIELDS, as_float, as_int
from clustertop.util.strpool import share

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
NO_NVIDIA_CODES = (127, 9, 6)
"""nvidia-smi's exit statuses for: not installed, driver not loaded, no devices."""


class SectionError(Exception):
    """A section's commands failed; the message is what the user sees."""


@dataclass(frozen=True, slots=True)
class SystemReading:
    """The sys section: load and memory."""

    load: tuple[float, float, float] | None
    """Load averages."""
    memory: Memory | None
    """Memory and swap."""


def read_system(body: str) -> SystemReading:
    """loadavg line then /proc/meminfo."""
    first, _, rest = body.partition("\n")
    try:
        load: tuple[float, float, float] | None = parse_loadavg(first)
    except ValueError:
        load = None
    try:
        memory: Memory | None = parse_meminfo(rest)
    except (ValueError, KeyError):
        memory = None
    if load is None and memory is None:
        raise SectionError(f"unreadable /proc/loadavg and /proc/meminfo: {first[:80]!r}")
    return SystemReading(load, memory)


@dataclass(frozen=True, slots=True)
class ProcRow:
    """One process line of the procs section."""

    pid: int
    """Host PID."""
    cpu_percent: float | None
    """CPU per core over the last tick."""
    rss_pages: int
    """Resident pages."""
    start_ticks: int
    """Start time in clock ticks after boot."""
    container_id: str | None
    """Docker container ID from its cgroup."""
    comm: str
    """Kernel process name."""
    user: str | None = None
    """Owner's user name."""
    command: str = ""
    """Command line ("" for kernel threads; "=" as sent: the arguments the probe sent before)."""


@dataclass(frozen=True, slots=True)
class ProcsReading:
    """The procs section: CPU counters, top processes (with users and commands), container usage."""

    cpu: CpuSample | None = None
    """Aggregate /proc/stat counters."""
    btime: float | None = None
    """Boot time (unix s)."""
    rows: dict[int, ProcRow] = field(default_factory=dict)
    """Selected processes by PID."""
    container_usage: dict[str, tuple[float | None, int | None]] = field(default_factory=dict)
    """Container ID -> (CPU % per core, memory bytes)."""
    keep: bool = False
    """Only some processes were read again: the others keep their rows from the last reading."""
    cgroups: dict[int, str] = field(default_factory=dict)
    """PID -> its cgroup paths that may attribute it (protocol `a`, tab-separated)."""
    attributions: dict[int, Attribution] = field(default_factory=dict)
    """PID -> what it belongs to (filled by the assembler, which remembers `a` lines)."""


replace_procs = replacer(ProcsReading)
"""dataclasses.replace of a ProcsReading, cheaper: two a frame of every host."""


def over_before(before: ProcsReading, reading: ProcsReading) -> ProcsReading:
    """A partial reading (`keep`) over the one before it: rows not read again stay as they were."""
    rows = {**before.rows, **reading.rows}
    usage = {**before.container_usage, **reading.container_usage}
    found = {**before.attributions, **reading.attributions}
    return replace_procs(reading, rows=rows, container_usage=usage, attributions=found)


def _proc_row(line: str) -> ProcRow | None:
    # A `p` line of the procs section (protocol.md).
    head, _, tail = line.partition("\t")
    words = head.split(" ")
    if len(words) < 8 or not words[1].isdigit():
        return None
    comm, _, cmdline = tail.partition("\t")
    # Hosts run the same programs as the same users: one copy of each text for the fleet.
    return ProcRow(
        pid=int(words[1]),
        cpu_percent=as_float(words[2]),
        rss_pages=as_int(words[3]) or 0,
        start_ticks=as_int(words[4]) or 0,
        container_id=share(words[6]) if _HEX64.match(words[6]) else None,
        comm=share(comm),
        user=share(words[7]),
        command=share(cap_args(cmdline)),  # the probe cuts them; or an old one
    )


def read_procs(text: str) -> ProcsReading:
    """The procs section's lines (protocol.md): cpu, btime, keep, p (process), k (container)."""
    cpu, btime = None, None
    rows: dict[int, ProcRow] = {}
    usage: dict[str, tuple[float | None, int | None]] = {}
    keep = False
    cgroups: dict[int, str] = {}
    for line in text.split("\n"):
        kind = line[:2]
        if kind == "p ":
            row = _proc_row(line)
            if row is not None:
                rows[row.pid] = row
        elif kind == "a ":
            pid, _, paths = line[2:].partition("\t")
            if pid.isdigit():
                cgroups[int(pid)] = share("\t" + paths)
        elif kind == "k ":
            words = line.split(" ")
            if len(words) >= 4 and _HEX64.match(words[1]):
                usage[words[1]] = (as_float(words[2]), as_int(words[3]))
        elif line.startswith("cpu "):
            cpu = parse_proc_stat(line)
        elif line.startswith("btime "):
            btime = as_float(line[6:])
        elif line == "keep":
            keep = True
    return ProcsReading(cpu, btime, rows, usage, keep, cgroups)


@dataclass(frozen=True, slots=True)
class GpuReading:
    """The gpu section."""

    gpus: list[Gpu]
    """GPUs."""
    apps: list[GpuApp]
    """Compute processes."""
    errors: list[str]
    """Lines that were not GPU rows (a lost GPU among good ones)."""
    apps_uptime: float | None = None
    """Host uptime when the compute-apps sample was written (None: no sample yet)."""
    amd: AmdReading | None = None
    """The AMD parts (None: the host has no AMD GPU)."""
    mig: MigReading | None = None
    """The MIG sample, in frames that carry a new one (None: keep the last)."""


def read_gpu(
    parts: Mapping[str, str], returncode: int | None, amd_before: AmdReading | None = None
) -> GpuReading:
    """The latest --query-gpu sample, then (after the apps marker) the latest compute-apps one,
    then the AMD parts where the host has AMD GPUs (the last frame's `amd_before` fills in the
    amd-smi output this one does not repeat)."""
    query = parts.get("", "")
    amd = keep_tool(read_amd(parts), amd_before)
    # Rows only (every line starts with the GPU count): no failure text to look for.
    rows_only = not returncode and all(line[:1].isdigit() for line in query.split("\n") if line)
    error = None if rows_only else nvidia_smi_error(query, returncode or 0)
    if error is not None and amd is not None:
        # An AMD host without NVIDIA's tool or driver simply has no NVIDIA GPU.
        absent = returncode in NO_NVIDIA_CODES or not query.strip()
        return GpuReading([], [], [] if absent else [error], amd=amd)
    if error is not None:
        raise SectionError(error)
    gpus, errors = parse_gpu_query(query, PROBE_GPU_FIELDS)
    args = parts.get("apps.args", "").split()
    apps_uptime = as_float(args[1]) if len(args) > 1 else None
    apps = parse_apps_query(parts.get("apps", ""), PROBE_APPS_FIELDS)
    return GpuReading(gpus, apps, errors, apps_uptime, amd, _read_mig(parts))


def _read_mig(parts: Mapping[str, str]) -> MigReading | None:
    """The `M` part (None when this frame carries no new MIG sample)."""
    if "mig" not in parts:
        return None
    mig_args = parts.get("mig.args", "").split()
    return parse_probe_mig(parts["mig"], (as_int(mig_args[0]) or 0) if mig_args else 0)


def read_disks(parts: Mapping[str, str]) -> list[Disk]:
    """`df -B1 -l --output=...` (sizes and inodes), or `df -P -T -B1 -l` / `df -P -k` then
    `df -P -i`; local filesystems only."""
    text = parts.get("", "")
    lines = [line for line in text.split("\n") if not line.startswith("df: ")]
    try:
        disks = local_disks(parse_df("\n".join(lines)))
    except ValueError as exc:
        raise SectionError(f"unreadable df output: {text.strip()[:200] or exc}") from exc
    try:
        inodes = parse_df_inodes(parts.get("inodes", ""))
    except ValueError:
        inodes = {}
    if not disks and text.strip():
        raise SectionError(text.strip().split("\n")[-1][:200])
    return [_with_inodes(d, inodes.get(d.mount)) for d in disks]


def _with_inodes(disk: Disk, inodes: tuple[int, int] | None) -> Disk:
    if inodes is None:
        return disk
    return Disk(
        disk.mount,
        disk.device,
        disk.fstype,
        disk.total,
        disk.used,
        disk.available,
        inodes_total=inodes[0],
        inodes_used=inodes[1],
    )


@dataclass(frozen=True, slots=True)
class DockerReading:
    """The docker section."""

    containers: list[Container]
    """All containers (CPU and memory filled in later from the procs section)."""
    requests: dict[str, GpuRequest]
    """Container ID -> requested GPUs ("all" or IDs)."""
    podman_error: str | None = None
    """Why podman's containers (listed after Docker's) could not be read."""
    docker_failure: str | None = None
    """Why Docker's could not be read, when podman's were (else the section fails)."""


def read_docker(
    parts: Mapping[str, str], returncode: int | None, *, now: float, rule: OwnerRule
) -> DockerReading:
    """Lines `ID PID LOGPATH {inspect json}`, then (after the logs marker) `SIZE PATH` lines."""
    containers: list[Container] = []
    requests: dict[str, GpuRequest] = {}
    other: list[str] = []
    sizes = _log_sizes(parts.get("logs", ""))
    for line in parts.get("", "").split("\n"):
        obj, log_path = _inspect_line(line)
        if obj is None:
            if line.strip():
                other.append(line.strip())
            continue
        container = container_from_inspect(obj, now=now, owner_rule=rule)
        size = sizes.get(log_path) if log_path else None
        containers.append(_with_log(container, size))
        requests[container.id] = requested_gpus(obj)
    podman = read_podman(parts, rule)
    failure = None
    if returncode not in (0, None) and not containers:
        failure = docker_error("\n".join(other), returncode) or "docker failed"
        if podman is None:
            raise SectionError(failure)
    if podman is None:
        return DockerReading(containers, requests)
    return DockerReading(containers + list(podman.containers), requests, podman.error, failure)


def _inspect_line(line: str) -> tuple[dict[str, Any] | None, str | None]:
    words = line.split(" ", 3)
    if len(words) < 4 or not _HEX64.match(words[0]):
        return None, None
    try:
        obj = json.loads(words[3])
    except ValueError:
        return None, None
    return (obj, words[2]) if isinstance(obj, dict) else (None, None)


def _log_sizes(text: str) -> dict[str, int]:
    sizes = {}
    for line in text.split("\n"):
        size, _, path = line.partition(" ")
        if size.isdigit() and path:
            sizes[path] = int(size)
    return sizes


def _with_log(container: Container, size: int | None) -> Container:
    if size is None:
        return container
    from dataclasses import replace

    return replace(container, log_size=size)


def container_ref(container_id: str | None, names: Mapping[str, str]) -> ContainerRef | None:
    """A reference to a container by ID, named when the container list knows it."""
    if container_id is None:
        return None
    return ContainerRef(container_id, names.get(container_id, ""))
