"""The AMD parts of the probe's gpu section (protocol.md): sysfs and KFD lines, amd-smi output."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from clustertop.model import Gpu
from clustertop.parsers.amd_smi import (
    AmdProcess,
    parse_metric,
    parse_processes,
    parse_static,
    place_processes,
)
from clustertop.parsers.amd_sysfs import (
    KfdProcess,
    parse_kfd_lines,
    parse_sysfs_lines,
    place_kfd,
    sysfs_facts,
)
from clustertop.parsers.amd_values import AmdGpuFacts, amd_gpus, merge_facts, tool_output
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.parsers.rocm_smi import parse_rocm_smi


@dataclass(frozen=True, slots=True)
class AmdToolReading:
    """What the slow job's runs (amd-smi static and/or process, or rocm-smi) said last."""

    static: list[AmdGpuFacts] | None = None
    """Names, bus IDs, VRAM sizes and power caps (None: no such run yet)."""
    static_error: str | None = None
    """Why the last static run's output was unusable."""
    processes: list[AmdProcess] | None = None
    """amd-smi's processes (None: not asked for, the KFD driver lists them)."""
    process_error: str | None = None
    """Why the last process run's output was unusable."""
    metric: list[AmdGpuFacts] | None = None
    """`amd-smi metric`'s values, asked for only where sysfs shows no card (None: no run)."""
    metric_error: str | None = None
    """Why the last metric run's output was unusable."""
    values_started: float | None = None
    """Host uptime when the last run that carried GPU values (amd-smi metric, or rocm-smi)
    started: where sysfs shows no card, the values are as old as that run."""

    @property
    def error(self) -> str | None:
        """The errors, joined."""
        found = (self.static_error, self.process_error, self.metric_error)
        return "; ".join(e for e in found if e) or None


@dataclass(frozen=True, slots=True)
class AmdReading:
    """One frame's AMD parts."""

    facts: list[AmdGpuFacts]
    """Each AMD card's sysfs values."""
    kfd: list[KfdProcess] | None
    """The KFD driver's processes (None: the host has no KFD topology)."""
    tool: AmdToolReading | None
    """The slow job's output; None: the same as the last frame's."""
    pending_s: int | None = None
    """Seconds the slow job has been running, when over 10."""


def read_amd(parts: Mapping[str, str]) -> AmdReading | None:
    """The `amd` and `amdtool` parts of a gpu section body; None on a host without AMD GPUs."""
    if "amd" not in parts:
        return None
    text = parts["amd"]
    pending = next(
        (
            int(line[8:])
            for line in text.split("\n")
            if line[8:].isdigit() and line[:8] == "pending "
        ),
        None,
    )
    kfd = parse_kfd_lines(text) if "\nkfd gpu " in "\n" + text else None
    return AmdReading(sysfs_facts(parse_sysfs_lines(text)), kfd, _tool(parts), pending)


def _tool(parts: Mapping[str, str]) -> AmdToolReading | None:
    if "amdtool" not in parts:
        return AmdToolReading()  # no run has finished yet
    if parts.get("amdtool.args", "").startswith("same "):
        return None
    static: list[AmdGpuFacts] | None = None
    processes: list[AmdProcess] | None = None
    static_error = process_error = None
    metric, metric_error = _metric(parts)
    try:
        if "amd-static" in parts:
            static = parse_static(_output(parts, "amd-static", "amd-smi static"))
        elif "rocm-smi" in parts:
            static = parse_rocm_smi(_output(parts, "rocm-smi", "rocm-smi"))
    except ValueError as exc:
        static, static_error = [], str(exc)
    try:
        if "amd-process" in parts:
            processes = parse_processes(_output(parts, "amd-process", "amd-smi process"))
    except ValueError as exc:
        processes, process_error = [], str(exc)
    carried = "amd-metric" in parts or "rocm-smi" in parts
    return AmdToolReading(
        static,
        static_error,
        processes,
        process_error,
        metric,
        metric_error,
        _started(parts) if carried else None,
    )


def _started(parts: Mapping[str, str]) -> float | None:
    """The run's start (host uptime) from its `M amdtool RC STARTED` line."""
    words = parts.get("amdtool.args", "").split()
    try:
        return float(words[1]) if len(words) > 1 else None
    except ValueError:
        return None


def _metric(parts: Mapping[str, str]) -> tuple[list[AmdGpuFacts] | None, str | None]:
    if "amd-metric" not in parts:
        return None, None
    try:
        return parse_metric(_output(parts, "amd-metric", "amd-smi metric")), None
    except ValueError as exc:
        return [], str(exc)


def _output(parts: Mapping[str, str], kind: str, command: str) -> str:
    args = parts.get(f"{kind}.args", "").strip()
    return tool_output(parts[kind], int(args) if args.isdigit() else 1, command)


def keep_tool(reading: AmdReading | None, before: AmdReading | None) -> AmdReading | None:
    """`reading` with the last frame's tool output where this frame says "same", and the last
    static (or process) reading where this run made only the other one."""
    if reading is None:
        return None
    last = (before.tool if before else None) or AmdToolReading()
    new = reading.tool
    if new is None:
        return dataclasses.replace(reading, tool=last)
    if new.static is None:
        new = dataclasses.replace(new, static=last.static, static_error=last.static_error)
    if new.processes is None:
        new = dataclasses.replace(new, processes=last.processes, process_error=last.process_error)
    if new.metric is None:
        new = dataclasses.replace(new, metric=last.metric, metric_error=last.metric_error)
    if new.values_started is None:
        new = dataclasses.replace(new, values_started=last.values_started)
    return dataclasses.replace(reading, tool=new)


def amd_view(
    reading: AmdReading | None, uptime: float | None = None
) -> tuple[list[Gpu], list[GpuApp], str | None]:
    """The AMD GPUs (PCI bus order), their processes as GPU apps, and what went wrong;
    `uptime`: the frame's host uptime, for the age of values that only the tool gives."""
    if reading is None:
        return [], [], None
    tool = reading.tool or AmdToolReading()
    static = tool.static or []
    # Where sysfs shows no card, amd-smi metric (or rocm-smi, the static run) has the values.
    gpus = amd_gpus(merge_facts(merge_facts(reading.facts, tool.metric or []), static))
    if not reading.facts and uptime is not None and tool.values_started is not None:
        # The tool runs every AMDMETRICEVERY ticks, not every tick: say how old its values are.
        age = round(max(uptime - tool.values_started, 0.0), 1)
        gpus = tuple(dataclasses.replace(gpu, reading_age_s=age) for gpu in gpus)
    if reading.kfd is not None:
        pairs = [(row, gpus[row.gpu_index]) for row in place_kfd(reading.kfd, gpus)]
    else:
        pairs = place_processes(tool.processes or [], gpus, static)
    apps = [GpuApp(gpu.uuid, p.pid, p.vram_used, p.name) for p, gpu in pairs]
    errors = [tool.error] if tool.error else []
    if reading.pending_s is not None:
        errors.append(f"amd-smi: no answer for {reading.pending_s} s")
    return list(gpus), apps, "; ".join(errors) or None
