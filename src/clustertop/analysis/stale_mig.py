"""Stale MIG instances: holding memory while their own utilisation stayed idle for the stale period.

A MIG instance is judged by its own utilisation, never its GPU's (N/A under MIG). nvidia-smi
and NVML report none per instance, so over SSH and locally the rule cannot judge, and says
so; dcgm-exporter's DCGM_FI_PROF_GR_ENGINE_ACTIVE gives it (the Prometheus source).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from clustertop.analysis.alert_rules import AlertKind, Finding
from clustertop.analysis.idle_runs import IdleRuns
from clustertop.analysis.mig import GpuUnit, UnitKey, processes_by_gpu, units_of
from clustertop.analysis.stale import DEFAULT_GAP_S, DEFAULT_STALE_AFTER, DEFAULT_UTIL_PERCENT
from clustertop.model import MIB, GpuProcess, HostSnapshot, Section
from clustertop.util.textsafe import printable
from clustertop.util.units import human_bytes

NO_INSTANCE_UTIL = (
    "utilisation unknown: nvidia-smi and NVML report none per MIG instance"
    " (dcgm-exporter's DCGM_FI_PROF_GR_ENGINE_ACTIVE does)"
)
"""Why the rule cannot judge an instance whose source gives no per-instance utilisation."""
DEFAULT_MEMORY_MIB = 500
"""MiB in use above which an instance holds memory (an empty one shows 9-22 MiB of its own)."""


class Judgement(Enum):
    """One reading's verdict on one instance."""

    IDLE = "idle"
    """Holds memory (or runs a process) and its utilisation is at or under the threshold."""
    ACTIVE = "active"
    """Busy, or holds no memory: ends an idle run."""
    UNKNOWN = "unknown"
    """Cannot tell (utilisation not reported, GPU error, stale reading): neither ends nor
    extends a run."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on one instance and, when it cannot judge, why."""

    judgement: Judgement
    why: str | None = None


def judge(
    unit: GpuUnit, procs: list[GpuProcess], *, fresh: bool, util_percent: float, memory_mib: float
) -> Verdict:
    """The verdict on one MIG instance of an up snapshot; `procs` run on its GPU."""
    instance = unit.instance
    assert instance is not None
    if unit.error:
        return Verdict(Judgement.UNKNOWN, unit.error)
    if not fresh:
        return Verdict(Judgement.UNKNOWN, "GPU reading is stale")
    runs = any(instance.runs(proc.mig) for proc in procs)
    used = instance.memory_used
    util = instance.util_percent
    if util is not None and util > util_percent:
        return Verdict(Judgement.ACTIVE)
    if not runs and used is not None and used <= memory_mib * MIB:
        return Verdict(Judgement.ACTIVE)  # holds nothing: not stale whatever its utilisation
    if util is None:
        return Verdict(Judgement.UNKNOWN, NO_INSTANCE_UTIL)
    if not runs and used is None:
        return Verdict(Judgement.UNKNOWN, "memory use unknown")
    return Verdict(Judgement.IDLE)


def host_verdicts(
    snap: HostSnapshot, *, util_percent: float, memory_mib: float
) -> list[tuple[GpuUnit, Verdict]]:
    """Every MIG instance of an up snapshot with its verdict (none without MIG)."""
    fresh = Section.GPU not in snap.stale
    grouped = processes_by_gpu(snap)
    found = []
    for pos, gpu in enumerate(snap.gpus):
        procs = grouped.get(pos, []) if gpu.mig_instances else []
        for unit in units_of(gpu) if gpu.mig_instances else ():
            verdict = judge(
                unit, procs, fresh=fresh, util_percent=util_percent, memory_mib=memory_mib
            )
            found.append((unit, verdict))
    return found


@dataclass(slots=True)
class _Host:
    runs: IdleRuns[UnitKey] = field(default_factory=IdleRuns)
    last_time: float | None = None
    verdicts: list[tuple[GpuUnit, Verdict]] = field(default_factory=list)


@dataclass(slots=True)
class MigStaleTracker:
    """Per host and MIG instance: when its current idle run began; stale after `stale_after`.

    The containers' rule per instance: an IDLE reading extends the run, an ACTIVE one ends
    it, an UNKNOWN one does neither; a host that is not up, a gap of more than `gap_s`, or an
    instance no longer listed ends it.
    """

    stale_after: float = DEFAULT_STALE_AFTER
    util_percent: float = DEFAULT_UTIL_PERCENT
    memory_mib: float = DEFAULT_MEMORY_MIB
    gap_s: float = DEFAULT_GAP_S
    _hosts: dict[str, _Host] = field(default_factory=dict)

    def update(self, snap: HostSnapshot) -> None:
        """Take the host's next snapshot (time-ordered per host)."""
        host = self._hosts.get(snap.name)
        gap = (
            host is not None
            and host.last_time is not None
            and not (0 <= snap.time - host.last_time <= self.gap_s)
        )
        if host is None or gap or not snap.is_up:
            host = self._hosts[snap.name] = _Host()
        if not snap.is_up:
            return
        host.last_time = snap.time
        host.verdicts = host_verdicts(
            snap, util_percent=self.util_percent, memory_mib=self.memory_mib
        )
        for unit, verdict in host.verdicts:
            judged = verdict.judgement
            idle = None if judged is Judgement.UNKNOWN else judged is Judgement.IDLE
            host.runs.mark(unit.key, idle, snap.time)
        host.runs.keep_only(unit.key for unit, _ in host.verdicts)

    def stale(self, host: str) -> dict[UnitKey, float]:
        """The host's stale instances -> when their idle run began."""
        runs = self._hosts.get(host)
        return runs.runs.stale(self.stale_after) if runs is not None else {}

    def verdicts(self, host: str) -> list[tuple[GpuUnit, Verdict]]:
        """The host's instances with the verdict of its last update."""
        runs = self._hosts.get(host)
        return runs.verdicts if runs is not None else []

    def forget(self, host: str) -> None:
        """Drop everything about `host`."""
        self._hosts.pop(host, None)


def stale_findings(tracker: MigStaleTracker, snap: HostSnapshot) -> list[Finding]:
    """A stale-MIG-instance alert per stale instance of the host (subject: its MIG UUID, else
    GPU UUID/GI/CI), since its idle run began."""
    since_of = tracker.stale(snap.name)
    if not since_of or not snap.is_up:
        return []
    found = []
    for unit, _ in tracker.verdicts(snap.name):
        since = since_of.get(unit.key)
        instance = unit.instance
        if since is None or instance is None:
            continue
        held = human_bytes(instance.memory_used) if instance.memory_used is not None else "memory"
        text = (
            f"MIG {printable(instance.label)} on GPU {unit.gpu.index} holds {held},"
            f" idle for {(snap.time - since) / 60:.0f} min"
        )
        found.append(Finding(AlertKind.STALE_MIG, _subject(unit), text, since))
    return found


def _subject(unit: GpuUnit) -> str:
    """The instance's MIG UUID, else GPU UUID/GI[/CI] (dcgm-exporter names no CI)."""
    instance = unit.instance
    assert instance is not None
    if instance.uuid:
        return instance.uuid
    ci = "" if instance.compute_instance_id is None else f"/{instance.compute_instance_id}"
    return f"{unit.gpu.uuid}/{instance.gpu_instance_id}{ci}"


def mig_stale_json(tracker: MigStaleTracker, snaps: list[HostSnapshot]) -> dict[str, Any]:
    """`{"stale": [...], "unjudged": [...]}`: stale instances, and those the rule cannot judge
    with why (utilisation not reported per instance, a GPU error, a stale reading)."""
    stale: list[dict[str, Any]] = []
    unjudged: list[dict[str, Any]] = []
    for snap in snaps:
        since_of = tracker.stale(snap.name)
        for unit, verdict in tracker.verdicts(snap.name):
            row = _row(snap.name, unit)
            if unit.key in since_of:
                stale.append({**row, "idle_since": since_of[unit.key]})
            elif verdict.judgement is Judgement.UNKNOWN:
                unjudged.append({**row, "why": verdict.why})
    return {"stale": stale, "unjudged": unjudged}


def _row(host: str, unit: GpuUnit) -> dict[str, Any]:
    instance = unit.instance
    assert instance is not None
    return {
        "host": host,
        "gpu_index": unit.gpu.index,
        "gpu_uuid": unit.gpu.uuid,
        "gpu_instance_id": instance.gpu_instance_id,
        "compute_instance_id": instance.compute_instance_id,
        "profile": instance.profile,
        "uuid": instance.uuid,
        "memory_used": instance.memory_used,
        "util_percent": instance.util_percent,
    }
