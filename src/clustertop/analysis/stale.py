"""Stale containers (holding GPU memory on idle GPUs for long) and exited ones to clean up."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from clustertop.analysis.idle import (
    GpuEvidence,
    Observation,
    Verdicts,
    observe,
    readable_engines,
)
from clustertop.model import Container, HostSnapshot
from clustertop.model.engines import DOCKER_ENGINE, engine_of

if TYPE_CHECKING:
    from clustertop.config.settings import Config

DEFAULT_STALE_AFTER = 30 * 60.0
"""Seconds of idle GPUs before a container counts as stale."""
DEFAULT_UTIL_PERCENT = 5.0
"""GPU utilisation at or under which a GPU counts as idle."""
DEFAULT_GAP_S = 300.0
"""Longest pause between two readings of a host that keeps idle runs going."""
DEFAULT_CLEANUP_AFTER = 7 * 86400.0
"""Seconds after exiting that a container is offered for clean-up."""

_EXITED_STATES = frozenset({"exited", "dead"})
_UNSET = object()


@dataclass(slots=True)
class _Run:
    """An unbroken idle run of one container."""

    started_at: float | None
    """The container's started_at when the run began (a restart ends the run)."""
    first_idle: float
    """Time of the first IDLE reading of the run."""
    last_idle: float
    """Time of the newest IDLE reading of the run."""
    engine: str = DOCKER_ENGINE
    """The container's engine (its run carries over while that engine cannot be read)."""


def _continues(previous: float | None, now: float, gap_s: float) -> bool:
    """True when no reading is missing between two up snapshots of a host."""
    return previous is None or 0.0 <= now - previous <= gap_s


def stale_containers(
    history: Sequence[HostSnapshot],
    *,
    stale_after: float = DEFAULT_STALE_AFTER,
    util_percent: float = DEFAULT_UTIL_PERCENT,
    gap_s: float = DEFAULT_GAP_S,
) -> frozenset[str]:
    """IDs of the containers stale at the newest of one host's time-ordered snapshots.

    The reference implementation: it walks back from the newest snapshot for each container,
    O(snapshots x containers). StaleTracker gives the same answers incrementally.

    The rule. A container is stale when it is running, holds GPU memory (a GPU process of it, or
    Container.gpu_memory_used > 0), and every GPU it uses (Container.gpus plus its processes' GPUs)
    stayed at or under `util_percent` for at least `stale_after` seconds; `stale_after` 0 marks
    it from a single snapshot. The idle run is measured from its first to its last IDLE reading.

    Edge cases, decided:
    - Unknown readings (utilisation N/A, GPU error, GPU section failed or stale, no GPU of the
      container in the list) neither end the run nor extend it: idleness is only ever measured
      between two readings that showed it. A container whose GPUs are never readable is never
      stale. On a MIG GPU the rule goes per instance: a container is judged by the instances
      its processes run in, with the instance's utilisation (which nvidia-smi and NVML do not
      report, so such a container is stale only where a source gives instance utilisation).
      A busy reading ends the run even when the GPU section is stale.
    - A snapshot whose containers are unreadable (docker error or stale docker section) says
      nothing about any container: runs carry over. In a readable one an absent container is gone.
    - Snapshots of a host that is not up add nothing; a pause of more than `gap_s` (default 5
      minutes) between two up snapshots, or time going backwards, ends every run of the host:
      what happened meanwhile is unknown.
    - A restart (new started_at) ends the run; a replacement with the same name has a new ID and
      so its own run.
    - Only containers listed in the newest snapshot are reported; none when that host is not up.
    """
    if not history or not history[-1].is_up:
        return frozenset()
    ups = [snap for snap in history if snap.is_up]
    verdicts = [observe(snap, util_percent) for snap in ups]
    readable = [readable_engines(snap) for snap in ups]
    times = [snap.time for snap in ups]
    stale = set()
    for ctr in history[-1].containers:
        unread = [engine_of(ctr) not in engines for engines in readable]
        span = _idle_span(verdicts, times, ctr.id, gap_s, unread)
        if span is not None and span >= stale_after:
            stale.add(ctr.id)
    return frozenset(stale)


def _idle_span(
    verdicts: Sequence[Verdicts | None],
    times: Sequence[float],
    container_id: str,
    gap_s: float,
    unread: Sequence[bool],
) -> float | None:
    """Seconds between the first and last IDLE reading of the container's current run.

    `unread[i]`: snapshot i could not read the container's engine (absent there says nothing).
    """
    first = last = None
    started: object = _UNSET
    for position in range(len(verdicts) - 1, -1, -1):
        newer = position + 1
        if newer < len(times) and not _continues(times[position], times[newer], gap_s):
            break
        current = verdicts[position]
        if current is None:
            continue
        entry = current.get(container_id)
        if entry is None and unread[position]:
            continue
        if entry is None or entry[0] is Observation.ACTIVE:
            break
        if started is _UNSET:
            started = entry[1]
        elif entry[1] != started:
            break
        if entry[0] is Observation.IDLE:
            last = times[position] if last is None else last
            first = times[position]
    return None if first is None or last is None else last - first


class _HostRuns:
    """Idle runs of one host's containers, and when its last up snapshot came."""

    __slots__ = ("last_time", "runs", "stale")

    def __init__(self) -> None:
        self.last_time: float | None = None
        self.runs: dict[str, _Run] = {}
        self.stale: frozenset[str] = frozenset()


class StaleTracker:
    """The stale rule (see stale_containers) kept up to date one snapshot at a time.

    O(containers) per update; the same answers as stale_containers over the host's snapshots.
    """

    def __init__(
        self,
        stale_after: float = DEFAULT_STALE_AFTER,
        util_percent: float = DEFAULT_UTIL_PERCENT,
        gap_s: float = DEFAULT_GAP_S,
    ) -> None:
        self.stale_after = stale_after
        """Seconds of idle GPUs before a container is stale."""
        self.util_percent = util_percent
        """GPU utilisation at or under which a GPU is idle."""
        self.gap_s = gap_s
        """Longest pause between readings that keeps idle runs going."""
        self._hosts: dict[str, _HostRuns] = {}

    @classmethod
    def from_config(cls, config: Config) -> StaleTracker:
        """A tracker with the config's stale_after and stale_util_percent."""
        return cls(config.stale_after, config.stale_util_percent)

    def update(self, snap: HostSnapshot) -> frozenset[str]:
        """Take the host's next snapshot (time-ordered per host); its stale container IDs now."""
        host = self._hosts.get(snap.name)
        if host is None:
            host = self._hosts[snap.name] = _HostRuns()
        if not snap.is_up:
            host.stale = frozenset()
            return host.stale
        if not _continues(host.last_time, snap.time, self.gap_s):
            host.runs = {}
        host.last_time = snap.time
        readable = readable_engines(snap)
        if readable:
            host.runs = _advance(host.runs, snap, self.util_percent, readable)
        listed: Collection[str] = {ctr.id for ctr in snap.containers} if host.runs else set()
        host.stale = frozenset(
            container_id
            for container_id, run in host.runs.items()
            if run.last_idle - run.first_idle >= self.stale_after and container_id in listed
        )
        return host.stale

    def stale(self, host: str) -> frozenset[str]:
        """The host's stale container IDs as of its last update."""
        runs = self._hosts.get(host)
        return runs.stale if runs is not None else frozenset()

    def idle_since(self, host: str, container_id: str) -> float | None:
        """When the container's current idle run began (stale or not yet); None if not idle."""
        runs = self._hosts.get(host)
        run = runs.runs.get(container_id) if runs is not None else None
        return run.first_idle if run is not None else None

    def forget(self, host: str) -> None:
        """Drop everything about `host`."""
        self._hosts.pop(host, None)


def _advance(
    runs: dict[str, _Run], snap: HostSnapshot, util_percent: float, readable: frozenset[str]
) -> dict[str, _Run]:
    """The runs after one snapshot that read the `readable` engines (their containers not in
    it are gone; runs of the other engines carry over).

    The same as applying observe()'s verdicts, but containers with no run that hold no GPU
    memory (most of them) are skipped without building a verdict.
    """
    evidence = GpuEvidence(snap)
    now = snap.time
    advanced: dict[str, _Run] = {
        key: run for key, run in runs.items() if run.engine not in readable
    }
    for ctr in snap.containers:
        run = runs.get(ctr.id)
        if engine_of(ctr) not in readable:
            if run is not None and run.started_at != ctr.started_at:
                del advanced[ctr.id]  # restarted, as observe()'s UNKNOWN with a new start
            continue
        if run is None and (ctr.state != "running" or not evidence.holds_memory(ctr)):
            continue  # ACTIVE or UNKNOWN with no run: still no run
        observation = evidence.verdict(ctr, util_percent)
        if run is None or run.started_at != ctr.started_at:
            if observation is Observation.IDLE:
                advanced[ctr.id] = _Run(ctr.started_at, now, now, engine_of(ctr))
        elif observation is Observation.IDLE:
            run.last_idle = now
            advanced[ctr.id] = run
        elif observation is Observation.UNKNOWN:
            advanced[ctr.id] = run
    return advanced


def exited_for_cleanup(
    snap: HostSnapshot, older_than_s: float = DEFAULT_CLEANUP_AFTER, now: float | None = None
) -> list[Container]:
    """Containers exited or dead for more than `older_than_s`, oldest first.

    `now` defaults to the snapshot's time. A container without finished_at is never listed:
    its age is unknown.
    """
    at = snap.time if now is None else now
    found = [
        ctr
        for ctr in snap.containers
        if ctr.state in _EXITED_STATES
        and ctr.finished_at is not None
        and at - ctr.finished_at > older_than_s
    ]
    found.sort(key=lambda ctr: (ctr.finished_at or 0.0, ctr.name))
    return found
