"""PrometheusSource: every host Prometheus scrapes, read with a few PromQL queries per interval."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from clustertop.model import HostSnapshot, HostState, placeholder
from clustertop.model.owners import DEFAULT_RULE, OwnerRule
from clustertop.sources.base import SnapshotSink, Source
from clustertop.sources.prometheus.assemble import Answers, assemble, queries
from clustertop.sources.prometheus.client import (
    PromClient,
    PromError,
    PromSettings,
    TargetHealth,
    no_gc,
)
from clustertop.sources.prometheus.past import fetch_past

_STATE_OF_ERROR = {
    "unreachable": HostState.UNREACHABLE,
    "timeout": HostState.TIMEOUT,
    "error": HostState.ERROR,
}


async def _answers(
    client: PromClient, host_label: str
) -> tuple[Answers, list[TargetHealth] | None]:
    """Every query at once; a failed query is kept as its error (partial data stays usable)."""
    wanted = queries(host_label)
    names = list(wanted)
    results = await asyncio.gather(
        *(client.query(wanted[n]) for n in names), client.targets(), return_exceptions=True
    )
    answers: dict[str, object] = {}
    for name, result in zip(names, results[:-1], strict=True):
        if isinstance(result, BaseException) and not isinstance(result, PromError):
            raise result
        answers[name] = result
    targets = results[-1]
    if isinstance(targets, BaseException) and not isinstance(targets, PromError):
        raise targets
    return answers, None if isinstance(targets, PromError) else targets  # type: ignore[return-value]


def _all_failed(answers: Answers) -> PromError | None:
    """Prometheus itself failed (every query did): one error for every host."""
    errors = [a for a in answers.values() if isinstance(a, PromError)]
    return errors[0] if errors and len(errors) == len(answers) else None


async def discover(settings: PromSettings, host_label: str) -> list[str]:
    """The hosts Prometheus knows now, sorted; PromError when it cannot say."""
    client = PromClient(settings)
    try:
        answers, targets = await _answers(client, host_label)
    finally:
        await client.aclose()
    failed = _all_failed(answers)
    if failed is not None:
        raise failed
    return [s.name for s in assemble(answers, targets, now=time.time(), host_label=host_label)]


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

    @property
    def host_names(self) -> Sequence[str]:
        return self._names

    def past_snapshots(self, window_s: float, resolution_s: float) -> Iterator[HostSnapshot]:
        """The charts' past from range queries (CPU, memory, GPU utilisation and memory)."""
        return fetch_past(
            self.settings, self._names, self.host_label, now=time.time(), window_s=window_s,
            resolution_s=resolution_s,
        )  # fmt: skip

    async def read(self) -> list[HostSnapshot]:
        """One snapshot per host from one round of queries; never raises for Prometheus's faults."""
        if self._client is None:
            self._client = PromClient(self.settings)
        now = time.time()
        answers, targets = await _answers(self._client, self.host_label)
        failed = _all_failed(answers)
        if failed is not None:
            state = _STATE_OF_ERROR.get(failed.kind, HostState.ERROR)
            return [placeholder(n, state, now, str(failed)) for n in self._names]
        with no_gc():
            return assemble(
                answers, targets, now=now, host_label=self.host_label, names=self._names,
                rule=self.owner_rule,
            )  # fmt: skip

    async def run(self, sink: SnapshotSink) -> None:
        since: dict[str, tuple[HostState, float]] = {}
        while True:
            started = time.monotonic()
            for snap in await self.read():
                state, first = since.get(snap.name, (snap.state, snap.time))
                if state is not snap.state:
                    first = snap.time
                since[snap.name] = (snap.state, first)
                sink(_with_since(snap, first))
            await asyncio.sleep(max(0.05, self.interval - (time.monotonic() - started)))

    async def collect_once(self, timeout: float) -> list[HostSnapshot]:
        """One round of queries: Prometheus's data is already settled (rates need no wait)."""
        try:
            return await asyncio.wait_for(self.read(), timeout)
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


def _with_since(snap: HostSnapshot, since: float) -> HostSnapshot:
    return replace(snap, state_since=since)
