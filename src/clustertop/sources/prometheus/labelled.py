"""A large fleet's GPU labels and utilisation from one selection, on the readings that ask for
the labels (the first one, each sweep of the TUI, every INFO_EVERY-th otherwise).

The labels query selects the utilisation and engine-activity series raw (every label, with
their values), and those two fields are read from its answer instead of being asked again:
Prometheus selects those 40,000 series (5,000 hosts x 8 GPUs) once a reading, not twice. Asked
alone on a fresh Prometheus 2.42: 0.49-0.61 s of its CPU for the raw selection, against
0.63-0.83 s for the labels (`group without ()`) plus 0.41-0.57 s for the utilisation. The SM
clocks (the sign of a GPU that reports neither field) are then asked alone, and those of GPUs
with a utilisation are dropped, as the fleet's `... or on (...)` query drops them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from clustertop.sources.prometheus.client import Labels, PromClient, PromError, Series
from clustertop.sources.prometheus.fleet import (
    LABELLED_BY,
    Untagged,
    fleet_queries,
    info_queries,
    part_clock,
)
from clustertop.sources.prometheus.gpus import GPU_FIELDS, GPU_LABELS, gpu_keep
from clustertop.sources.prometheus.promql import Answers

SM_CLOCK = "gpu_sm_clock"
PARTED = (*LABELLED_BY, SM_CLOCK)
"""What the labels' answer gives (with the SM clocks asked beside it), in the order filed."""
_METRIC_OF = {GPU_FIELDS[name]: name for name in LABELLED_BY}

GpuKey = tuple["str | None", ...]
"""A GPU's placing label values, by name (as `max by` and `on (...)` group series)."""
LabelMemo = dict[int, tuple[Labels, Labels, GpuKey]]
"""A raw label set's id: the set, its copy without `__name__` and its GPU's key (made once
while the set comes back: the memo of its query gives the same sets each reading)."""


def labelled_queries(lean: Mapping[str, str], host_label: str) -> dict[str, str]:
    """A reading's queries (`lean`: the fleet's) when it asks for the GPUs' labels: without
    the fields the labels' answer holds, with the SM clocks alone, then the labels and sizes."""
    wanted = {name: promql for name, promql in lean.items() if name not in PARTED}
    wanted[SM_CLOCK] = f"max by ({gpu_keep(host_label)}) ({GPU_FIELDS[SM_CLOCK]})"
    return {**wanted, **info_queries(host_label)}


def sweep_queries(host_label: str) -> dict[str, str]:
    """A sweep's queries (a large fleet's first reading's), the open host aside."""
    return labelled_queries(fleet_queries(host_label), host_label)


def part_labels(
    raw: list[Series] | PromError,
    clocks: list[Series] | PromError | None,
    host_label: str,
    memo: LabelMemo,
) -> dict[str, list[Series] | PromError]:
    """The labels' raw answer parted: the utilisation and engine activity, one series per GPU
    as `max by` the placing labels gives them (each with the GPU's labels, which place it
    alike), the SM clocks of GPUs without a utilisation, then the labels (as `group without
    ()` gives them). A failed labels' answer is the error of the fields read from it; the SM
    clocks are then kept whole. This runs over 40,000 series a sweep at 5,000 x 8."""
    found: dict[str, list[Series] | PromError] = {}
    if not isinstance(raw, list):
        found.update((name, raw) for name in LABELLED_BY)
        found[SM_CLOCK] = clocks if clocks is not None else raw
        found[GPU_LABELS] = raw
        return found
    key_of = _key_of(host_label)
    before = dict(memo)
    memo.clear()
    fields_of: dict[str, dict[GpuKey, Series]] = {n: {} for n in LABELLED_BY}
    bare: list[Series] = []
    metric_of, put = _METRIC_OF.get, bare.append
    for labels, value in raw:
        got = before.get(id(labels))
        if got is None or got[0] is not labels:
            own = labels.copy()
            own.pop("__name__", None)
            got = (labels, own, key_of(labels))
        memo[id(labels)] = got
        put((got[1], value))
        series = fields_of.get(metric_of(labels.get("__name__", ""), ""))
        if series is not None:
            last = series.get(got[2])
            if last is None or value > last[1]:  # max by: the largest of a GPU's series
                series[got[2]] = (got[1], value)
    for name in LABELLED_BY:
        found[name] = list(fields_of[name].values())
    if isinstance(clocks, list):
        util = fields_of[LABELLED_BY[0]]
        clocks = [s for s in clocks if key_of(s[0]) not in util]
    found[SM_CLOCK] = clocks if clocks is not None else []
    found[GPU_LABELS] = bare
    return found


def parted(
    lean: dict[str, list[Series] | PromError],
    asked: dict[str, list[Series] | PromError],
    host_label: str,
    memos: tuple[LabelMemo, Untagged],
    *,
    labels: list[Series] | PromError | None = None,
    made: Mapping[str, object] | None = None,
) -> None:
    """A reading's fields (`lean`) and labels (`asked`, when asked) as they are filed, in
    place: the utilisation and engine activity read from the labels' answer (their labels then
    `labels` when given: every field's), else the SM clocks parted from the utilisation.
    `made`: what part_labels gives, already made from the same answers (FleetStream.made)."""
    if GPU_LABELS in asked and "gpu_util" not in lean:
        clocks = lean.pop(SM_CLOCK, None)
        found: dict[str, list[Series] | PromError] = (
            part_labels(asked[GPU_LABELS], clocks, host_label, memos[0])
            if made is None
            else {n: made[n] for n in (*PARTED, GPU_LABELS)}  # type: ignore[misc]
        )
        own = found.pop(GPU_LABELS)
        asked[GPU_LABELS] = own if labels is None else labels
        lean.update(found)
    else:
        part_clock(lean, memos[1])


async def unparted(client: PromClient, answers: Answers, host_label: str) -> Answers:
    """A reading whose labels' answer failed (the largest: the likeliest to time out), with
    the utilisation and engine activity it was to give asked as other readings ask them
    (their SM clocks with them)."""
    if not isinstance(answers.get(GPU_LABELS), PromError) or "gpu_util" in answers:
        return answers
    lean = fleet_queries(host_label)

    async def ask(name: str) -> list[Series] | PromError:
        try:
            return await client.query(lean[name])
        except PromError as exc:
            return exc

    got = await asyncio.gather(*(ask(n) for n in LABELLED_BY))
    return {**answers, **dict(zip(LABELLED_BY, got, strict=True))}


def _key_of(host_label: str) -> Callable[[Labels], GpuKey]:
    """A label set's GPU key: its placing labels' values (None where it has none)."""
    keep = tuple(dict.fromkeys(n.strip() for n in gpu_keep(host_label).split(",")))

    def key(labels: Labels) -> GpuKey:
        # Prometheus sends no empty label values (an empty one is no label): in C.
        return tuple(map(labels.get, keep))

    return key


__all__ = [
    "PARTED", "SM_CLOCK", "GpuKey", "LabelMemo", "labelled_queries", "part_labels", "parted",
    "sweep_queries", "unparted",
]  # fmt: skip
