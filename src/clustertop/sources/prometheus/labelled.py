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

from collections.abc import Mapping

from clustertop.sources.prometheus.client import Labels, PromError, Series
from clustertop.sources.prometheus.fleet import LABELLED_BY, fleet_queries, info_queries
from clustertop.sources.prometheus.gpus import GPU_FIELDS, GPU_LABELS, gpu_keep

SM_CLOCK = "gpu_sm_clock"
PARTED = (*LABELLED_BY, SM_CLOCK)
"""What the labels' answer gives (with the SM clocks asked beside it), in the order filed."""
_METRIC_OF = {GPU_FIELDS[name]: name for name in LABELLED_BY}

LabelMemo = dict[int, tuple[Labels, Labels, Labels]]
"""A raw label set's id: the set, its copy without `__name__` and its placing labels alone
(made once while the set comes back: the memo of its query gives the same sets each reading)."""


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
    """The labels' raw answer parted: the utilisation and engine activity as `max by` the
    placing labels gives them, the SM clocks of GPUs without a utilisation, then the labels
    (as `group without ()` gives them). A failed labels' answer is the error of the fields
    read from it; the SM clocks are then kept whole."""
    found: dict[str, list[Series] | PromError] = {}
    if not isinstance(raw, list):
        found.update((name, raw) for name in LABELLED_BY)
        found[SM_CLOCK] = clocks if clocks is not None else raw
        found[GPU_LABELS] = raw
        return found
    keep = sorted({n.strip() for n in gpu_keep(host_label).split(",")})
    before = dict(memo)
    memo.clear()
    # A GPU by its placing labels, whatever their order (as `on (...)` matches them).
    fields_of: dict[str, dict[frozenset[tuple[str, str]], Series]] = {n: {} for n in LABELLED_BY}
    bare: list[Series] = []
    for labels, value in raw:
        got = before.get(id(labels))
        if got is None or got[0] is not labels:
            own = {k: v for k, v in labels.items() if k != "__name__"}
            got = (labels, own, {k: labels[k] for k in keep if labels.get(k)})
        memo[id(labels)] = got
        bare.append((got[1], value))
        name = _METRIC_OF.get(labels.get("__name__", ""))
        if name is None:
            continue
        series = fields_of[name]
        key = frozenset(got[2].items())
        last = series.get(key)
        if last is None or value > last[1]:  # max by: the largest of a GPU's series
            series[key] = (got[2], value)
    for name in LABELLED_BY:
        found[name] = list(fields_of[name].values())
    util = fields_of[LABELLED_BY[0]]
    if isinstance(clocks, list):
        clocks = [s for s in clocks if frozenset(s[0].items()) not in util]
    found[SM_CLOCK] = clocks if clocks is not None else []
    found[GPU_LABELS] = bare
    return found


__all__ = ["PARTED", "SM_CLOCK", "LabelMemo", "labelled_queries", "part_labels", "sweep_queries"]
