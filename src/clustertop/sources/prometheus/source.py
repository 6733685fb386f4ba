"""PrometheusSource: every host Prometheus scrapes, read with a few PromQL queries per interval."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace

from clustertop.model import HostSnapshot, HostState, placeholder
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.model.unchanged import keep_unchanged
from clustertop.sources.base import SnapshotSink, Source
from clustertop.sources.prometheus.asking import all_failed, ask_all
from clustertop.sources.prometheus.assemble import (
    Answers,
    retimed,
    section_failures,
    snapshot,
)
from clustertop.sources.prometheus.client import (
    DECODER,
    PromClient,
    PromError,
    PromSettings,
    Series,
    TargetHealth,
    no_gc,
    off_loop,
)
from clustertop.sources.prometheus.delivery import deliver
from clustertop.sources.prometheus.filing import Changes, changes, refile
from clustertop.sources.prometheus.fleet import (
    CPU_DETAIL,
    FLEET_MIN_HOSTS,
    GPU_FB_FREE_ALL,
    INFO_EVERY,
    Untagged,
    detail_queries,
    fleet_queries,
    info_queries,
    labels_fallback,
    sizes,
)
from clustertop.sources.prometheus.gpus import GPU_FB_TOTAL, GPU_LABELS, BuiltGpus
from clustertop.sources.prometheus.grouping import group_hosts, unnamed
from clustertop.sources.prometheus.hosts import Filings, HostData
from clustertop.sources.prometheus.hot import (
    SWEEP_S,
    Merged,
    fleet_wanted,
    host_values,
    hot_answers,
    hot_queries,
    split,
)
from clustertop.sources.prometheus.labelled import (
    LabelMemo,
    labelled_queries,
    parted,
    unparted,
)
from clustertop.sources.prometheus.past import fetch_past
from clustertop.sources.prometheus.streamed import FleetStream
from clustertop.util.gcpolicy import pace_for_hosts

FOCUS_GAP_S = 1.0
"""Least time between the starts of two readings when hosts are opened one after another."""
_STATE_OF_ERROR = {
    "unreachable": HostState.UNREACHABLE,
    "timeout": HostState.TIMEOUT,
    "error": HostState.ERROR,
}


class PrometheusSource(Source):
    """Hosts as node_exporter, dcgm-exporter and cAdvisor report them to one Prometheus."""

    def __init__(
        self,
        settings: PromSettings,
        names: Sequence[str],
        *,
        interval: float,
        host_label: str,
        owner_rule: OwnerRule = DEFAULT_RULE,
    ) -> None:
        self.settings = settings
        self._names = list(names)
        self.interval = interval
        self.host_label = host_label
        self.owner_rule = owner_rule
        self._client: PromClient | None = None
        self._focus: str | None = None
        self._wake = asyncio.Event()
        """Set when a large fleet's open host changes: the next reading (which asks for its
        detail) comes at once instead of at the interval's end."""
        self._readings = 0
        self._kept: dict[str, list[Series]] = {}
        self._detail_error: str | None = None
        self._last: dict[str, HostSnapshot] = {}
        self._raw: dict[str, HostData] = {}
        self._failed: dict[str, str | None] = {}
        self._noted_host: str | None = None
        self._answered: tuple[Answers, list[TargetHealth] | None] | None = None
        self._filings: Filings = {}
        self._untagged: Untagged = {}
        self._labelled: LabelMemo = {}
        """The raw labels' sets parted (labelled.py), while they come back."""
        self._stream: FleetStream | None = None
        """The first reading's answers, filed as they come (FleetStream)."""
        self._built: dict[str, BuiltGpus] = {}
        """The GPU records the stream made for the join that takes its hosts."""
        self.sweep_s = SWEEP_S
        self._view: frozenset[str] | None = None
        self._swept_at: float | None = None
        self._seen: dict[str, str] = {}
        """Each host label value with its host (hot readings ask for the hot hosts' values)."""
        self._fresh: set[str] = set()
        """Hosts read hot since the last sweep: the sweep builds their snapshots anew."""
        self._down: set[str] = set()
        self._hot_untagged: Untagged = {}
        self._hot_asked: tuple[frozenset[str], dict[str, str], Merged] | None = None
        """The last hot reading's hosts, queries and merged queries (asked again as they are)."""

    @property
    def host_names(self) -> Sequence[str]:
        return self._names

    def past_snapshots(self, window_s: float, resolution_s: float) -> Iterator[HostSnapshot]:
        """The charts' past from range queries (CPU, memory, GPU utilisation and memory)."""
        return fetch_past(
            self.settings, self._names, self.host_label, now=time.time(), window_s=window_s,
            resolution_s=resolution_s,
        )  # fmt: skip

    def focus(self, host: str | None) -> None:
        """The host on screen: in a large fleet its CPU modes and GPUs' detail are asked for
        it alone, by a reading that comes at once (not up to an interval later)."""
        if host is not None and host != self._focus and len(self._names) > FLEET_MIN_HOSTS:
            self._wake.set()
        self._focus = host

    def view(self, hosts: Collection[str] | None) -> None:
        """The hosts whose rows are on screen (a margin included). In a large fleet, readings
        between two sweeps (every `sweep_s`) then ask for these, the open host and the hosts
        down alone; the others keep their last reading, and its time. None: every reading
        is a sweep (nothing says what is shown)."""
        self._view = None if hosts is None else frozenset(hosts)

    def _hot(self) -> frozenset[str] | None:
        """The hosts of this reading when it is a hot one (None: a sweep is due)."""
        swept = self._swept_at
        if self._view is None or self._answered is None or swept is None:
            return None
        if time.monotonic() - swept >= self.sweep_s:
            return None
        focus = () if self._focus is None else (self._focus,)
        return self._view | self._down | frozenset(focus)

    async def read(self, *, full: bool = False) -> list[HostSnapshot]:
        """One snapshot per host from one round of queries; never raises for Prometheus's faults.
        Above FLEET_MIN_HOSTS hosts (unless `full`) the round asks for what rows show."""
        if self._client is None:
            self._client = PromClient(self.settings)
        now = time.time()
        fleet = not full and len(self._names) > FLEET_MIN_HOSTS
        if fleet:
            # What a reading keeps (the answers' memo, 5,000 snapshots) is long-lived: at
            # CPython's pace a full collection went through it every few readings (0.3 s each
            # at 5,000 x 8), as it did for a large SSH fleet.
            pace_for_hosts(len(self._names))
        hot = self._hot() if fleet else None
        if hot is not None:
            wanted: dict[str, str] | None = self._hot_wanted(hot)
        else:
            wanted = self._fleet_wanted() if fleet else None
            self._swept_at = time.monotonic()
        stream = None
        if hot is None and wanted is not None and self._answered is None and self._focus is None:
            # The first reading: each answer filed as it comes, in the decoding thread.
            stream = self._stream = FleetStream(
                list(wanted), self.host_label, self._untagged, self._seen, self._labelled
            )
        answers, targets = await ask_all(
            self._client,
            self.host_label,
            wanted,
            None if stream is None else lambda n, a: DECODER.submit(stream.take, n, a),
            # The GPU answers first: their records (most of the filing) are made once they
            # are all in, while Prometheus answers the rest, not after the last answer
            # (first grid at 5,000 x 8, with labelled.py: 3.31-3.40 s -> 2.86-3.03 s).
            () if stream is None else stream.gpu_names,
        )
        failed = all_failed(answers)
        if failed is not None:
            # Every host is given the error: the next reading reads every host again.
            self._swept_at = None
            state = _STATE_OF_ERROR.get(failed.kind, HostState.ERROR)
            return [placeholder(n, state, now, str(failed)) for n in self._names]
        if hot is not None:
            return await off_loop(lambda: self._assemble_hot(answers, targets, now, hot)) or []
        if fleet:
            return await self._fleet_snapshots(self._client, answers, targets, now, stream)
        # Joining 5,000 hosts takes a few hundred ms: off the event loop, which the UI shares.
        snaps = await off_loop(lambda: self._assemble(answers, targets, now))
        return snaps or []

    async def _fleet_snapshots(
        self,
        client: PromClient,
        answers: Answers,
        targets: list[TargetHealth] | None,
        now: float,
        stream: FleetStream | None = None,
    ) -> list[HostSnapshot]:
        """A large fleet's snapshots, joined again with every field's labels when the labels
        asked (utilisation and engine activity) left a GPU that other fields found unnamed.
        `stream`: this reading's, when its answers were filed as they came."""
        answers = await unparted(client, answers, self.host_label)
        check = isinstance(answers.get(GPU_LABELS), list)

        def joined() -> list[HostSnapshot] | None:
            # In the decoding thread, after the stream's filing of every answer (queued first).
            made = None if stream is None else stream.made()
            return self._assemble(self._with_kept(answers, made=made), targets, now, check)

        snaps = await off_loop(joined)
        if snaps is not None:
            return snaps
        try:
            labels: list[Series] | PromError = await client.query(labels_fallback())
        except PromError as exc:
            labels = exc
        return (
            await off_loop(lambda: self._assemble(self._with_kept(answers, labels), targets, now))
            or []
        )

    def _assemble(
        self,
        answers: Answers,
        targets: list[TargetHealth] | None,
        now: float,
        check_names: bool = False,
    ) -> list[HostSnapshot] | None:
        """The snapshots; None (nothing kept) when `check_names` finds a GPU unnamed."""
        with no_gc():
            failed = section_failures(answers)
            hosts, moved = self._filed(answers, targets, failed)
            if check_names and unnamed(hosts):
                return None
            dirty = refile(moved) if moved is not None else None
            self._answered = (answers, targets)
            # A host whose series are those of the last reading gets its last snapshot again
            # (times moved on) without building it: 5,000 hosts' Gpu records cost more than
            # comparing their series. The open host (now or before) carries a detail note.
            raw = self._raw if failed == self._failed else {}
            built, self._built = self._built, {}  # the first reading's, made as it came
            noted = {self._focus, self._noted_host, *self._fresh}
            last, snaps, empty = self._last, [], HostData()
            for name in self._names:
                host, before = hosts.get(name, empty), last.get(name)
                if before is not None and name not in noted and _same(host, raw, name, dirty):
                    snaps.append(retimed(before, host, now))
                    continue
                snap = snapshot(name, host, failed, now, self.owner_rule, built=built.get(name))
                # Unchanged hosts keep their last parts: the UI then sees at once what did change.
                snaps.append(keep_unchanged(before, self._noted(snap)))
            self._raw, self._failed, self._noted_host = hosts, failed, self._focus
            self._last = {s.name: s for s in snaps}
            self._fresh = set()
            self._down = {s.name for s in snaps if not s.is_up}
            self._hot_asked = None  # the hosts' label values may have changed
            return snaps

    def _hot_wanted(self, hot: frozenset[str]) -> dict[str, str]:
        if self._hot_asked is None or self._hot_asked[0] != hot:
            values = host_values(self._seen, hot)
            self._hot_asked = (hot, *hot_queries(self.host_label, hot, values))
        wanted = dict(self._hot_asked[1])
        if self._focus is not None:
            wanted |= detail_queries(self.host_label, self._focus)
        return wanted

    def _assemble_hot(
        self,
        answers: Answers,
        targets: list[TargetHealth] | None,
        now: float,
        hot: frozenset[str],
    ) -> list[HostSnapshot]:
        """The snapshots of a hot reading's hosts, and of any host found down meanwhile."""
        with no_gc():
            kept = self._kept.get(GPU_LABELS)
            parts = self._hot_asked[2] if self._hot_asked is not None else {}
            own = split(self._without_detail(answers), parts, fleet_wanted(self.host_label))
            got = {
                **hot_answers(own, self.host_label, self._hot_untagged, kept),
                **self._detail(answers),
            }
            failed = section_failures(got)
            hosts = group_hosts(got, targets, self.host_label, None, self._seen)
            empty, snaps = HostData(), []
            for name in self._names:
                host = hosts.get(name)
                if name not in hot and (host is None or not host.down):
                    continue
                snap = snapshot(name, host or empty, failed, now, self.owner_rule)
                snaps.append(keep_unchanged(self._last.get(name), self._noted(snap)))
            for snap in snaps:
                self._last[snap.name] = snap
                self._fresh.add(snap.name)
                (self._down.discard if snap.is_up else self._down.add)(snap.name)
            return snaps

    def _filed(
        self, answers: Answers, targets: list[TargetHealth] | None, failed: dict[str, str | None]
    ) -> tuple[dict[str, HostData], Changes | None]:
        """This reading's hosts: the last ones with the values that moved (to be written with
        refile) when only values did, else filed anew."""
        self._built = {}
        seen = self._answered
        if seen is not None and seen[1] == targets and failed == self._failed:
            found = changes(seen[0], answers, self._filings)
            if found is not None:
                return self._raw, found
        stream, self._stream = self._stream, None
        got = None if stream is None or seen is not None else stream.finish(answers, targets)
        if got is not None and stream is not None:
            hosts, self._filings = got
            self._built = stream.built  # for these hosts alone (not a second join's)
            return hosts, None
        filings: Filings = {}
        hosts = group_hosts(answers, targets, self.host_label, filings, self._seen)
        self._filings = filings
        return hosts, None

    def _noted(self, snap: HostSnapshot) -> HostSnapshot:
        if self._detail_error is None or snap.name != self._focus or snap.gpu_error:
            return snap
        return replace(snap, gpu_error=self._detail_error)

    def _fleet_wanted(self) -> dict[str, str]:
        wanted = fleet_queries(self.host_label)
        # With hot readings between, every sweep asks for them (labels out of view as fresh).
        if not self._kept or self._readings % INFO_EVERY == 0 or self._view is not None:
            wanted = labelled_queries(wanted, self.host_label)
        if self._focus is not None:
            wanted |= detail_queries(self.host_label, self._focus)
        self._readings += 1
        return wanted

    def _with_kept(
        self,
        answers: Answers,
        labels: list[Series] | PromError | None = None,
        made: Mapping[str, object] | None = None,
    ) -> Answers:
        """The GPUs' labels and sizes: this reading's when asked and answered, else the last
        ones, filed after the fields (they only label GPUs found now) and before the open
        host's own detail (whose labels are newer). When asked, the labels' answer holds the
        utilisation (labelled.py); `labels`, when given, are every field's (labels_fallback).
        `made`: the same parts, made from these answers as they came (FleetStream.made)."""
        asked = {n: answers[n] for n in info_queries(self.host_label) if n in answers}
        lean = {n: a for n, a in self._without_detail(answers).items() if n not in asked}
        memos = (self._labelled, self._untagged)
        parted(lean, asked, self.host_label, memos, labels=labels, made=made)
        used = answers.get("gpu_fb_used")
        if (
            asked
            and isinstance(used, list)
            and not any(isinstance(a, PromError) for a in asked.values())
        ):
            free: list[Series] = asked[GPU_FB_FREE_ALL]  # type: ignore[assignment]
            self._kept = {
                GPU_LABELS: asked[GPU_LABELS],  # type: ignore[dict-item]
                GPU_FB_TOTAL: sizes(used, free) if made is None else made[GPU_FB_TOTAL],  # type: ignore[dict-item]
            }
        return {**lean, **self._kept, **self._detail(answers)}

    def _without_detail(self, answers: Answers) -> dict[str, list[Series] | PromError]:
        detail = detail_queries(self.host_label, self._focus) if self._focus else {}
        return {n: a for n, a in answers.items() if n not in detail}

    def _detail(self, answers: Answers) -> dict[str, list[Series] | PromError]:
        """The open host's own detail answers (filed last: its labels are the newest); a
        failed one is noted on that host alone."""
        detail = detail_queries(self.host_label, self._focus) if self._focus else {}
        got = {n: answers[n] for n in detail if n in answers}
        # A failed CPU modes' answer leaves the busy share (cpu_idle) without its split.
        errors = [a for n, a in got.items() if isinstance(a, PromError) and n != CPU_DETAIL]
        self._detail_error = f"GPU detail: {errors[0]}" if errors else None
        return {n: a for n, a in got.items() if not isinstance(a, PromError)}

    async def run(self, sink: SnapshotSink) -> None:
        since: dict[str, tuple[HostState, float]] = {}
        while True:
            started = time.monotonic()
            # The collector paused from the queries to the repaint of their reading: the join
            # pauses it too, and resumed there it ran at once in the decoding thread (a young
            # collection of every record the reading made: 0.15-0.2 s at 5,000 x 8 between
            # the last answer and the grid). It runs after, in the interval's wait. The
            # answers' timeout bounds a reading, so cyclic garbage waits no longer than that.
            self._wake.clear()
            with no_gc():
                await deliver(await self.read(), since, sink)
            rest = max(0.05, self.interval - (time.monotonic() - started))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), rest)
                # A host opened: read now, readings still at least FOCUS_GAP_S apart.
                await asyncio.sleep(max(0.0, FOCUS_GAP_S - (time.monotonic() - started)))

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        """One round of queries: Prometheus's data is already settled (rates need no wait)."""
        try:
            return await asyncio.wait_for(self.read(full=True), timeout)
        except asyncio.TimeoutError:
            now = time.time()
            why = f"Prometheus at {self.settings.url}: no answer within {timeout:g} s"
            return [placeholder(n, HostState.TIMEOUT, now, why) for n in self._names]
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _same(host: HostData, raw: dict[str, HostData], name: str, dirty: set[int] | None) -> bool:
    """Whether a host's series are those of the last reading: no value of it moved when the
    reading was filed again in place (`dirty`: the hosts written), else equal to `raw`'s."""
    if dirty is not None:
        return raw.get(name) is host and id(host) not in dirty
    return raw.get(name) == host
