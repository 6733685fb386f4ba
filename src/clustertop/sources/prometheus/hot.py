"""A large fleet's hot readings: the fleet's queries asked for a few hosts (rows in view, the
open host, hosts down), between two sweeps that read every host."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterable, Mapping

from clustertop.sources.prometheus.client import PromError, Series
from clustertop.sources.prometheus.fleet import (
    GPU_FB_FREE_ALL,
    Untagged,
    fleet_queries,
    info_queries,
    labels_fallback,
    part_clock,
    sizes,
)
from clustertop.sources.prometheus.gpus import GPU_FB_TOTAL, GPU_LABELS

SWEEP_S = 60.0
"""Seconds between two sweeps (readings of every host) of a large fleet whose screen says which
rows it shows: the readings between ask for those rows' hosts, the open host and the hosts down
alone (`up == 0` of every target is asked each time)."""

_GO_META = frozenset("\\.+*?()|[]{}^$")
_STR = r'"(?:[^"\\]|\\.)*"'
_BRACES = r'\{(?:[^{}"]|' + _STR + r")*\}"
_PART = re.compile(
    _STR
    + r"|(?<![\w:])(?P<metric>(?:node|container|DCGM)_[\w:]*)(?P<own>"
    + _BRACES
    + r")?|(?P<bare>"
    + _BRACES
    + r")"
)
"""A string (kept as it is), an exporter's metric with its matchers, or a bare `{...}`."""


def quote_meta(text: str) -> str:
    """`text` as an RE2 literal: only RE2's metacharacters escaped (Prometheus then matches a
    set of such literals by lookup, not by running the expression on every label value)."""
    return "".join("\\" + c if c in _GO_META else c for c in text)


def one_of(label: str, values: Iterable[str]) -> str:
    """A matcher of `label` equal to any of `values` (a PromQL string: Go's escapes)."""
    found = sorted(set(values))
    if not found:
        return f'{label}=~"$^"'  # matches nothing (an empty alternation would match "")
    return f"{label}=~{json.dumps('|'.join(quote_meta(v) for v in found))}"


def restrict(promql: str, node: str, gpu: Collection[str]) -> str:
    """`promql` with each exporter selector narrowed: node_exporter's and cAdvisor's by `node`,
    dcgm-exporter's (DCGM_*, and a bare {__name__=~"DCGM_..."}) by any of `gpu` (one selector each,
    joined by `or`; never in a range selector, where that would not parse)."""

    def narrowed(found: re.Match[str]) -> str:
        metric, braces = found["metric"], found["own"] or found["bare"]
        if metric is None and found["bare"] is None:
            return found[0]  # a string
        metric = metric or ""
        inner = braces[1:-1].strip() if braces else ""

        def selector(matcher: str) -> str:
            return metric + "{" + ", ".join(m for m in (inner, matcher) if m) + "}"

        if metric.startswith("DCGM_") or (not metric and "DCGM_" in inner):
            return "(" + " or ".join(selector(m) for m in gpu) + ")"
        return selector(node)

    return _PART.sub(narrowed, promql)


def host_values(seen: Mapping[str, str], hosts: Collection[str]) -> set[str]:
    """The host label values of `hosts`' series (`seen`: each value's host, as filed), and
    the names themselves (a value without a port)."""
    return {value for value, host in seen.items() if host in hosts} | set(hosts)


def fleet_wanted(host_label: str) -> dict[str, str]:
    """The queries a hot reading answers (before they are merged), in the fleet's order."""
    wanted = {**fleet_queries(host_label), **info_queries(host_label)}
    # Every field's labels (the sweep's are from two): a GPU is named whatever it reports.
    wanted[GPU_LABELS] = labels_fallback()
    return wanted


Merged = dict[str, tuple[dict[str, str], bool]]
"""Each merged query's name: the queries it answers by their metric, and whether it is an
aggregation (whose own answers carry no `__name__`)."""


def merged(wanted: Mapping[str, str]) -> tuple[dict[str, str], Merged]:
    """Queries that differ only by their one metric (`node_load1`, `node_load5`...; the
    filesystems' five; `max by (...) (DCGM_...)` of four GPU fields) asked as one, with
    `{__name__=~"a|b"}` (and `by (__name__, ...)`): a hot reading then asks 14 queries, not 28
    (each query's round trip was most of its cost). `split` gives each its own answer again."""
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for name, promql in wanted.items():
        found = [m for m in _PART.finditer(promql) if m["metric"]]
        if len(found) != 1 or promql[found[0].end() :].startswith("["):
            continue  # several metrics, or a range (irate) that {__name__=~...} would not take
        token = found[0]
        inner = (token["own"] or "{}")[1:-1].strip()
        template = promql[: token.start()] + "\0" + promql[token.end() :]
        groups.setdefault((template, inner), {})[token["metric"]] = name
    queries, parts = dict(wanted), {}
    for index, ((template, inner), by_metric) in enumerate(groups.items()):
        if len(by_metric) < 2:
            continue
        names = json.dumps("|".join(quote_meta(m) for m in by_metric))
        selector = "{" + ", ".join(m for m in (f"__name__=~{names}", inner) if m) + "}"
        aggregated = " by (" in template
        promql = template.replace("\0", selector)
        merged_name = f"merged:{index}"
        if aggregated:
            promql = promql.replace(" by (", " by (__name__, ", 1)
        queries[merged_name] = promql
        parts[merged_name] = (by_metric, aggregated)
        for name in by_metric.values():
            del queries[name]
    return queries, parts


def split(
    answers: Mapping[str, list[Series] | PromError], parts: Merged, order: Iterable[str]
) -> dict[str, list[Series] | PromError]:
    """Each query's own answer again, in `order` (then the others): a merged one's series
    parted by their `__name__` (taken off an aggregation's, which its own would not carry)."""
    found = {n: a for n, a in answers.items() if n not in parts}
    for merged_name, (by_metric, aggregated) in parts.items():
        answer = answers.get(merged_name, PromError("", "not asked"))
        if not isinstance(answer, list):
            found.update((name, answer) for name in by_metric.values())
            continue
        lists: dict[str, list[Series]] = {name: [] for name in by_metric.values()}
        for labels, value in answer:
            name = by_metric.get(labels.get("__name__", ""))
            if name is not None:
                own = {k: v for k, v in labels.items() if k != "__name__"} if aggregated else labels
                lists[name].append((own, value))
        found.update(lists)
    ordered = {n: found.pop(n) for n in order if n in found}
    return {**ordered, **found}


@functools.lru_cache(maxsize=8)
def _hot_shape(host_label: str) -> tuple[dict[str, str], Merged]:
    return merged(fleet_wanted(host_label))


def hot_queries(
    host_label: str, hosts: Collection[str], values: Iterable[str]
) -> tuple[dict[str, str], Merged]:
    """The fleet's queries for `hosts` alone (each GPU's labels and memory size included: a
    few hosts' are cheap to ask each time), merged where they can be (`split` their answers),
    and `up == 0` of every target."""
    node = one_of(host_label, values)
    # dcgm-exporter's series are placed by the host label when they have it (another label
    # than `instance`), else by Hostname (hostname): any of them selects a hot host's.
    gpu = [node, one_of("Hostname", hosts), one_of("hostname", hosts)]
    shape, parts = _hot_shape(host_label)
    found = {name: restrict(promql, node, gpu) for name, promql in shape.items()}
    found["up"] = "up == 0"
    return found, parts


def hot_answers(
    answers: Mapping[str, list[Series] | PromError],
    host_label: str,
    untagged: Untagged,
    kept_labels: list[Series] | None,
) -> dict[str, list[Series] | PromError]:
    """A hot reading's answers as the fleet's are filed: the SM clocks parted from the
    utilisation, the GPUs' labels and sizes after the fields (the sweep's labels when this
    reading's failed)."""
    info = info_queries(host_label)
    lean = {n: a for n, a in answers.items() if n not in info}
    part_clock(lean, untagged)
    labels, used, free = (answers.get(n) for n in (GPU_LABELS, "gpu_fb_used", GPU_FB_FREE_ALL))
    if isinstance(labels, list):
        lean[GPU_LABELS] = labels
    elif kept_labels is not None:
        lean[GPU_LABELS] = kept_labels
    if isinstance(used, list) and isinstance(free, list):
        lean[GPU_FB_TOTAL] = sizes(used, free)
    return lean


__all__ = [
    "SWEEP_S",
    "host_values",
    "hot_answers",
    "hot_queries",
    "one_of",
    "quote_meta",
    "restrict",
]
