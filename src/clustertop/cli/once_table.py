"""The readable `--once` report: plain-text tables, host text shown safely."""

from __future__ import annotations

import time
from collections.abc import Sequence

from clustertop.analysis.issues import section_issues
from clustertop.cli.mig_table import mig_gpu_label, mig_table_rows
from clustertop.model import ContainerRef, HostSnapshot, Section
from clustertop.util.textsafe import printable
from clustertop.util.units import NA, duration, human_bytes, number, percent, used_of

Row = Sequence[object]

HEADERS = ("HOST", "STATE", "CPU", "LOAD", "MEMORY", "GPUS", "GPU UTIL", "GPU MEM", "DISK", "CTRS")
"""The overview table's columns."""


def table(headers: Sequence[str], rows: Sequence[Row], max_width: int = 60) -> str:
    """Left-aligned columns; every cell made printable and cut at max_width."""
    cells = [[_cell(v, max_width) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() for row in cells
    ]
    return "\n".join(lines)


def _cell(value: object, max_width: int) -> str:
    text = NA if value is None else printable(value)
    return text if len(text) <= max_width else text[: max_width - 1] + "…"


def container_label(ref: ContainerRef | None) -> str:
    """A container's name, or its short ID when the host's container list does not name it."""
    if ref is None:
        return "-"
    return ref.name or ref.id[:12]


def _state(snap: HostSnapshot) -> str:
    """As the grid's State column words it: 'up', '! gpu: <why>; ...' or 'unreachable: <why>'."""
    if not snap.is_up:
        return snap.state.value if snap.error is None else f"{snap.state.value}: {snap.error}"
    issues = section_issues(snap)
    return "! " + "; ".join(issues) if issues else "up"


def _count(snap: HostSnapshot, section: Section, shown: str, found: bool) -> str:
    """`shown` when the section found something; else 'error', N/A (no reading yet) or `shown`.

    A failed nvidia-smi or docker must not read as 0 GPUs or 0/0 containers.
    """
    if found:
        return shown
    if snap.error_of(section):
        return "error"
    return NA if section in snap.waiting else shown


def summary_rows(snapshots: Sequence[HostSnapshot]) -> list[Row]:
    """One row per host for the overview table; a host that is not up shows '-' past its state."""
    return [
        [s.name, _state(s), *(_resources(s) if s.is_up else ["-"] * (len(HEADERS) - 2))]
        for s in snapshots
    ]


def _resources(s: HostSnapshot) -> list[object]:
    mem = s.memory
    gpu_used = sum(g.memory_used or 0 for g in s.gpus)
    gpu_total = sum(g.memory_total or 0 for g in s.gpus)
    worst = max(s.disks, key=lambda d: d.percent or 0.0, default=None)
    running = sum(1 for c in s.containers if c.state == "running")
    return [
        number(s.cpu.percent if s.cpu else None, 0, "%"),
        " ".join(f"{v:.2f}" for v in s.load) if s.load else NA,
        used_of(mem.used, mem.total) if mem else NA,
        _count(s, Section.GPU, str(len(s.gpus)), bool(s.gpus)),
        percent(_mean([g.util_percent for g in s.gpus])),
        used_of(gpu_used, gpu_total) if s.gpus else "-",
        f"{percent(worst.percent)} {worst.mount}" if worst else NA,
        _count(s, Section.DOCKER, f"{running}/{len(s.containers)}", bool(s.containers)),
    ]


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def host_details(s: HostSnapshot, now: float) -> str:
    """GPUs, GPU processes, containers, disks and top processes of one host."""
    parts = [f"== {printable(s.name)} ({_cell(s.hostname, 60)}) =="]
    for label, error in (
        ("GPU", s.gpu_error),
        ("Docker", s.docker_error),
        ("Disks", s.disks_error),
        ("Processes", s.processes_error),
    ):
        if error:
            parts.append(f"{label}: {printable(error)}")
    for section, age in s.stale.items():
        parts.append(f"{section}: stale, data {age:.0f} s old")
    if s.gpus:
        parts.append(_gpus(s))
    if s.gpu_processes:
        parts.append(_gpu_processes(s, now))
    if s.containers:
        parts.append(_containers(s, now))
    if s.disks:
        parts.append(_disks(s))
    if s.processes:
        parts.append(_processes(s, now))
    return "\n\n".join(parts)


def _gpus(s: HostSnapshot) -> str:
    rows: list[list[object]] = []
    for g in s.gpus:
        rows.append(
            [
                g.index,
                g.name,
                percent(g.util_percent),
                used_of(g.memory_used, g.memory_total),
                number(g.temperature_c, 0, "C"),
                f"{number(g.power_w, 0)}/{number(g.power_limit_w, 0)} W",
                g.error or "",
            ]
        )
        rows.extend(mig_table_rows(g))
    return table(["GPU", "NAME", "UTIL", "MEMORY", "TEMP", "POWER", ""], rows)


def _gpu_processes(s: HostSnapshot, now: float) -> str:
    rows = [
        [
            p.pid,
            mig_gpu_label(p, s.gpus),
            human_bytes(p.memory_used),
            p.user,
            p.owner,
            container_label(p.container),
            duration(now - p.start_time) if p.start_time else NA,
            p.command,
        ]
        for p in s.gpu_processes
    ]
    return table(["PID", "GPU", "GPU MEM", "USER", "OWNER", "CONTAINER", "TIME", "COMMAND"], rows)


def _containers(s: HostSnapshot, now: float) -> str:
    rows = [
        [
            c.name,
            c.image,
            c.state,
            c.status,
            number(c.cpu_percent, 1, "%"),
            human_bytes(c.memory_used),
            ",".join(str(i) for i in c.gpus) or "-",
            c.owner,
            c.id[:12],
        ]
        for c in s.containers
    ]
    headers = ["NAME", "IMAGE", "STATE", "STATUS", "CPU", "MEM", "GPUS", "OWNER", "ID"]
    return table(headers, rows)


def _disks(s: HostSnapshot) -> str:
    rows = [
        [d.mount, d.device, d.fstype, human_bytes(d.total), human_bytes(d.used), percent(d.percent)]
        for d in s.disks
    ]
    return table(["MOUNT", "DEVICE", "TYPE", "SIZE", "USED", "USE"], rows)


def _processes(s: HostSnapshot, now: float, count: int = 10) -> str:
    rows = [
        [
            p.pid,
            p.user,
            number(p.cpu_percent, 1, "%"),
            number(p.memory_percent, 1, "%"),
            container_label(p.container),
            p.command,
        ]
        for p in s.processes[:count]
    ]
    return table(["PID", "USER", "CPU", "MEM", "CONTAINER", "COMMAND"], rows)


def owner_line(owner: str, shown: int, hosts: int) -> str:
    """The line above a report filtered to one person (`--owner`, `--mine`)."""
    who = printable(owner)
    if not shown:
        return f"{who} has no GPU process, container or process on any of {hosts} hosts.\n"
    return f"Only {who}'s GPU processes, containers and processes: {shown} of {hosts} hosts.\n\n"


def render(snapshots: Sequence[HostSnapshot], now: float | None = None) -> str:
    """The whole report: overview, then details for each host that answered."""
    now = time.time() if now is None else now
    parts = [table(HEADERS, summary_rows(snapshots), max_width=80)]
    parts += [host_details(s, now) for s in snapshots if s.is_up]
    return "\n\n".join(parts) + "\n"
