"""The remote probe program and its frames (lines described in protocol.md): script, split."""

from __future__ import annotations

import functools
import secrets
import shlex
import zlib
from dataclasses import dataclass, field
from importlib import resources

from clustertop.model.fast import maker
from clustertop.parsers.df import GNU_OUTPUT_COLUMNS
from clustertop.parsers.docker import INSPECT_TEMPLATE
from clustertop.parsers.nvidia_smi import APPS_QUERY_FIELDS, GPU_QUERY_FIELDS
from clustertop.parsers.procfs import ARGS_LIMIT
from clustertop.parsers.rocm_smi import ROCM_SMI_ARGS

PROBE_GPU_FIELDS = ("count", *GPU_QUERY_FIELDS)
"""The GPU query the probe runs: `count` first, so the sampler knows when a sample is whole."""
PROBE_APPS_FIELDS = ("timestamp", *APPS_QUERY_FIELDS)
"""The compute-apps query: `timestamp` first, so the rows of one sample stay together."""

PROBE_VERSION = "3"
"""Printed by the probe in its ready line; bumped when the frame format changes."""

REMOTE_COMMAND = "exec /bin/sh -s"
"""What the exec channel runs; the script arrives on stdin (works from any login shell)."""


def new_marker() -> str:
    """A random frame marker: host output cannot forge a line that starts with it."""
    return "@ct" + secrets.token_hex(8)


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Parameters of one probe run."""

    marker: str
    """Frame marker (see new_marker)."""
    deadline_s: float = 1.5
    """How long the first frame waits for the first readings."""
    sample_ms: int = 2000
    """nvidia-smi sampling period (the tick interval)."""
    disk_every: int = 10
    """Ticks between df runs (disks change slowly; each run costs a subshell and df)."""
    proc_every: int = 30
    """Ticks between full process scans when the host is not in focus. Only the host screen
    shows the whole process list, and it asks for a full scan every tick (focus): in the
    background a scan only keeps the list from going too old."""
    docker_every: int = 30
    """Ticks between container refreshes (log sizes) when `docker events` reports nothing."""
    port_every: int = 5
    """Ticks between readings of the listening sockets while the host screen is open."""
    port_idle: int = 150
    """Ticks between those readings otherwise: reading /proc/net/tcp walks the kernel's whole
    socket hash table, which costs more than the rest of a tick on a big host."""
    holder_every: int = 30
    """Fewest ticks between two looks at every fd table (`ls -l /proc/*/fd`), made only on a
    full tick (host screen open, or the first) when a listening socket's process is unknown."""
    mig_every_s: int = 10
    """Seconds between MIG samples (`nvidia-smi -L` and `-q -x`), taken only while a GPU is
    in MIG mode: instances change rarely and `-q -x` costs much more than a query."""
    top_n: int = 25
    """Processes kept by CPU and, separately, by memory."""
    nvidia_smi: str = "nvidia-smi"
    """nvidia-smi command (a per-host override may give a path)."""
    docker: str = "docker"
    """docker command."""
    docker_host: str | None = None
    """DOCKER_HOST to use on the host (None: the host's own environment)."""
    awk: str | None = None
    """The awk to run (None: mawk 1.3.4 where installed, else gawk, else awk)."""
    phase: int | None = None
    """Tick offset of the slow sections' cadences (None: from the marker, so hosts started
    together spread their df runs and full process scans over different ticks)."""
    amd_every: int = 900
    """Ticks between amd-smi static (or rocm-smi) runs for AMD GPU names (15 ticks after a
    failed one): sysfs gives the values and the KFD driver the processes every tick, names do
    not change, and one amd-smi run costs 40-60 ms of CPU."""
    amd_process_every: int = 90
    """Ticks between `amd-smi process` runs, only where the KFD driver lists no processes (old
    kernels): at one run per 90 ticks an AMD host's probe stays within 2x of an NVIDIA host's
    CPU (benchmarks/amd_cost.py)."""
    amd_metric_every: int = 90
    """Ticks between `amd-smi metric` (or rocm-smi) runs on a host whose sysfs shows no
    amdgpu card (a container without /sys/class/drm, say): there the tool is the only
    source of utilisation and memory, and each GPU's `reading_age_s` says how old its values
    are. At 90 (with `amd-smi process` every 90 too) such a host stays within 2x of an NVIDIA
    host's CPU; every 2 ticks it cost 10x (benchmarks/amd_cost.py)."""
    amd_smi: str = "amd-smi"
    """amd-smi command."""
    rocm_smi: str = "rocm-smi"
    """rocm-smi command (where there is no amd-smi)."""
    scontrol: str = "scontrol"
    """scontrol command (run only where slurmd is installed too)."""
    slurm_every: int = 150
    """Ticks between re-reads of the jobs' scontrol records when the node's jobs did not change
    (a requeue's new start time, a state): one scontrol per job costs more than a whole tick."""
    slurm_look: int = 5
    """Ticks between looks for the node's jobs (a glob of its Slurm cgroups): a new job is
    described within this many ticks."""
    slurm_wait_s: int = 10
    """Seconds one scontrol may take (where the host has `timeout`)."""
    podman: str = "podman"
    """podman command (listed with Docker's containers, in the docker section's runs)."""
    podman_timeout_s: float = 3.0
    """Longest a `podman ps` may run (where `timeout` exists): it runs in the docker section's
    job, so a hung podman makes Docker's list late by at most this long, then says why."""


def probe_script(settings: ProbeSettings) -> str:
    """The whole program sent to `sh -s`: parameter assignments, then probe.sh."""
    # The shell variables probe.sh reads (its lines in and out are in protocol.md).
    params = {
        "N": settings.marker,  # frame marker
        "DL": f"{max(settings.deadline_s, 0.2):.2f}",  # first frame's wait for readings, s
        "TOPN": str(settings.top_n),  # processes per top list
        "ARGSMAX": str(ARGS_LIMIT),  # most bytes of one process's arguments sent
        "GPUQ": ",".join(PROBE_GPU_FIELDS),  # nvidia-smi --query-gpu fields
        "APPQ": ",".join(PROBE_APPS_FIELDS),  # nvidia-smi --query-compute-apps fields
        "DFCOLS": GNU_OUTPUT_COLUMNS,  # GNU df --output columns
        "LMS": str(max(100, settings.sample_ms)),  # nvidia-smi -lms period, ms
        "DISKEVERY": str(max(1, settings.disk_every)),  # ticks between df runs
        "DOCKEREVERY": str(max(1, settings.docker_every)),  # ticks between docker inspects
        "PROCEVERY": str(max(1, settings.proc_every)),  # ticks between full process scans
        "PORTEVERY": str(max(1, settings.port_every)),  # ticks between listening-socket reads
        "PORTIDLE": str(max(1, settings.port_idle)),  # ticks between them otherwise
        "HOLDEREVERY": str(max(1, settings.holder_every)),  # ticks between fd walks
        "MIGS": str(max(1, settings.mig_every_s)),  # seconds between MIG samples
        "PHASE": str(  # offset of those cadences
            settings.phase if settings.phase is not None else zlib.crc32(settings.marker.encode())
        ),
        "DTPL": INSPECT_TEMPLATE,  # docker inspect --format template
        "NVSMI": settings.nvidia_smi,
        "DOCKERCMD": settings.docker,
        "PODMANCMD": settings.podman,
        "PODMANWAIT": str(max(1, round(settings.podman_timeout_s))),  # podman ps's longest run
        "DOCKERHOST": settings.docker_host or "",  # DOCKER_HOST ("": the host's own)
        "AWKSEL": settings.awk or "",  # the awk ("": mawk 1.3.4, else gawk, else awk)
        "AMDSMI": settings.amd_smi,
        "ROCMSMI": settings.rocm_smi,
        "ROCMARGS": " ".join(ROCM_SMI_ARGS),  # what rocm-smi is asked for
        "AMDEVERY": str(max(1, settings.amd_every)),  # ticks between amd-smi runs
        "AMDPROCEVERY": str(max(1, settings.amd_process_every)),  # the same, without KFD
        "SCONTROL": settings.scontrol,
        "SLURMEVERY": str(max(1, settings.slurm_every)),  # ticks between scontrol re-reads
        "SLURMWAIT": str(max(1, settings.slurm_wait_s)),  # longest one scontrol may take, s
        "SLURMLOOK": str(max(1, settings.slurm_look)),  # ticks between looks for the jobs
        "AMDMETRICEVERY": str(max(1, settings.amd_metric_every)),  # the same, without sysfs
    }
    head = "".join(f"{name}={shlex.quote(value)}\n" for name, value in params.items())
    return head + _programs()


@functools.cache
def _programs() -> str:
    """The frame awk and the GPU samplers' awk as assignments, then probe.sh: the same for every
    host, so read and quoted once (not once per connection)."""
    files = resources.files("clustertop.sources.ssh")
    awk = files.joinpath("probe.awk").read_text()  # the frame awk
    collect = files.joinpath("collect.awk").read_text()  # the GPU samplers' awk
    sh = files.joinpath("probe.sh").read_text()
    return f"AWKPROG={shlex.quote(awk)}\nCOLLECTPROG={shlex.quote(collect)}\n{sh}"


@dataclass(frozen=True, slots=True)
class SectionOutput:
    """One finished section of a frame."""

    name: str
    """Section name (sys, gpu, disks, docker, procs)."""
    body: str
    """Raw output of the section's commands (with in-section markers)."""
    returncode: int | None
    """Exit status of the section's commands."""
    started: float | None
    """Host uptime (s) when the section's commands started."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One probe answer to one tick."""

    seq: int
    """Tick number the frame answers."""
    uptime: float | None
    """Host uptime (s) at the tick: the host's own clock for ages."""
    sections: dict[str, SectionOutput] = field(default_factory=dict)
    """Sections that finished (this tick, or late from an earlier one)."""
    pending: dict[str, float] = field(default_factory=dict)
    """Sections still running from an earlier start: name -> uptime when started."""
    same: dict[str, float] = field(default_factory=dict)
    """Sections whose output did not change since the last frame: name -> uptime of that output."""
    unfinished: str | None = None
    """The section the text stopped in, without its end line (a frame cut at the read limit)."""
    unfinished_chars: int = 0
    """How much of that section came before the cut."""


def as_float(text: str) -> float | None:
    """A probe's number, or None for "-" and anything else that is not one."""
    try:
        return float(text)
    except ValueError:
        return None


def as_int(text: str) -> int | None:
    """A probe's whole number, or None."""
    try:
        return int(text)
    except ValueError:
        return None


_SECTION = maker(SectionOutput)
"""SectionOutput(...) without one object.__setattr__ per field: several a frame of every host."""


def parse_frame(text: str, marker: str) -> Frame:
    """Split one frame (everything up to and including its `M d SEQ` line; see protocol.md)."""
    prefix = marker + " "
    seq, uptime = -1, None
    sections: dict[str, SectionOutput] = {}
    pending: dict[str, float] = {}
    same: dict[str, float] = {}
    current: str | None = None
    body: list[str] = []  # runs of whole lines, each run "\n"-joined
    # Marker lines only are looked at: each chunk is one marker line (its prefix cut off) with
    # the lines up to the next one (chunk 0, before any marker line, belongs to no section).
    for chunk in ("\n" + text).split("\n" + prefix)[1:]:
        head, newline, rest = chunk.partition("\n")
        words = head.split(" ")
        kind = words[0]
        if kind == "t" and len(words) >= 3:
            seq, uptime = as_int(words[1]) or -1, as_float(words[2])
        elif kind == "b" and len(words) >= 2:
            current, body = words[1], []
        elif kind == "e" and len(words) >= 4 and current == words[1]:
            sections[current] = _SECTION(
                current, _body_text(body), as_int(words[2]), as_float(words[3])
            )
            current = None
        elif kind in ("p", "same") and len(words) >= 3:
            started = as_float(words[2])
            if started is not None:
                (pending if kind == "p" else same)[words[1]] = started
        elif kind == "d" and len(words) >= 2 and seq < 0:
            seq = as_int(words[1]) or -1
        elif current is not None:
            body.append(prefix + chunk)  # a part marker (apps, inodes, logs) and its lines
            continue
        if current is not None and newline:
            body.append(rest)
    size = len("\n".join(body)) + 1 if current is not None and body else 0
    return Frame(seq, uptime, sections, pending, same, unfinished=current, unfinished_chars=size)


def _body_text(runs: list[str]) -> str:
    """A section's lines as one text, without the empty last line the probe adds so that a
    last line without a newline is kept whole."""
    text = "\n".join(runs)
    if not runs:
        return text
    return text[:-1] if text.endswith("\n") or runs[-1] == "" else text


def split_parts(body: str, marker: str) -> dict[str, str]:
    """Split a section body at its part markers (`M apps ...`, protocol.md): part name -> text.

    The text before the first marker is the part named "" ; a marker's extra words are kept in
    the part named "<name>.args".
    """
    prefix = marker + " "
    if prefix not in body:  # most sections: no part marker, one part
        return {"": body}
    parts: dict[str, list[str]] = {"": []}
    name = ""
    for line in body.split("\n"):
        if line.startswith(prefix):
            words = line[len(prefix) :].split(" ", 1)
            name = words[0]
            parts[name] = []
            parts[name + ".args"] = [words[1]] if len(words) > 1 else []
            continue
        parts[name].append(line)
    return {key: "\n".join(lines) for key, lines in parts.items()}
