"""One round of PromQL queries: every query at once, the heaviest first, each failure kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection

from clustertop.sources.prometheus.assemble import Answers, assemble, queries
from clustertop.sources.prometheus.client import (
    PromClient,
    PromError,
    PromSettings,
    Series,
    TargetHealth,
)
from clustertop.sources.prometheus.fleet import info_queries
from clustertop.sources.prometheus.gpus import GPU_LABELS, GPU_QUERIES

CPU = ("cpu_modes", "cpu_idle")
"""A full reading's CPU query and a large fleet's (promql.CPU_IDLE)."""
HEAVY = frozenset((*GPU_QUERIES, *info_queries("instance"), *CPU))
"""The queries of tens of thousands of series each at 5,000 x 8 (the GPUs' and CPU modes')."""


async def ask_all(
    client: PromClient,
    host_label: str,
    wanted: dict[str, str] | None = None,
    came: Callable[[str, object], object] | None = None,
    lead: Collection[str] = (),
) -> tuple[Answers, list[TargetHealth] | None]:
    """Every query at once; a failed query is kept as its error (partial data stays usable).
    The targets API (the reason a scrape failed) is asked when `up` may show a failure.
    `came` is told each answer (or PromError) as it comes. The queries in `lead` are asked
    first, the others once all of them but one are answered (see FleetStream's use)."""
    wanted = queries(host_label) if wanted is None else wanted
    # Asked heaviest first: their answers then come while Prometheus still works on the
    # small ones, and are decoded meanwhile instead of after (first reading at 5,000 x 8:
    # 6.4-8.6 s -> 3.6-5.2 s at load 4-5). Filed in the order asked for all the same.
    # The GPUs' labels (the largest answer, which completes the GPU answers of a first
    # reading: FleetStream then makes the GPU records) first, the CPU modes (little to do
    # with) last of the heavy ones.
    names = sorted(wanted, key=lambda n: (n not in HEAVY, n in CPU, n != GPU_LABELS))
    sparse_up = wanted.get("up") == "up == 0"

    async def ask(name: str) -> list[Series] | PromError:
        try:
            got: list[Series] | PromError = await client.query(wanted[name])
        except PromError as exc:
            got = exc
        if came is not None:
            came(name, got)
        return got

    first = [asyncio.ensure_future(ask(n)) for n in names if n in lead]
    names = [*(n for n in names if n in lead), *(n for n in names if n not in lead)]
    pending = set(first)
    try:
        while len(pending) > 1:  # the others asked when one is left (Prometheus then has work)
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the reading given up: its queries with it
        for task in pending:
            task.cancel()
        raise
    results = await asyncio.gather(
        *first,
        *(ask(n) for n in names[len(first) :]),
        *(() if sparse_up else (client.targets(),)),
        return_exceptions=True,
    )
    got = dict(zip(names, results, strict=False))
    answers: dict[str, object] = {}
    for name in wanted:
        result = got[name]
        if isinstance(result, BaseException) and not isinstance(result, PromError):
            raise result
        answers[name] = result
    if sparse_up:  # every target up: no need for the (large) targets list
        targets: object = await _targets(client) if answers.get("up") != [] else PromError("", "")
    else:
        targets = results[-1]
    if isinstance(targets, BaseException) and not isinstance(targets, PromError):
        raise targets
    return answers, None if isinstance(targets, PromError) else targets  # type: ignore[return-value]


async def _targets(client: PromClient) -> list[TargetHealth] | PromError:
    try:
        return await client.targets()
    except PromError as exc:
        return exc


def all_failed(answers: Answers) -> PromError | None:
    """Prometheus itself failed (every query did): one error for every host."""
    errors = [a for a in answers.values() if isinstance(a, PromError)]
    return errors[0] if errors and len(errors) == len(answers) else None


async def discover(settings: PromSettings, host_label: str) -> list[str]:
    """The hosts Prometheus knows now, sorted; PromError when it cannot say."""
    client = PromClient(settings)
    try:
        answers, targets = await ask_all(client, host_label)
    finally:
        await client.aclose()
    failed = all_failed(answers)
    if failed is not None:
        raise failed
    return [s.name for s in assemble(answers, targets, now=time.time(), host_label=host_label)]


__all__ = ["HEAVY", "all_failed", "ask_all", "discover"]
