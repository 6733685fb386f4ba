"""A large fleet's readings: every row's values each interval, the rest only for the open host."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import repeat
from operator import itemgetter

from clustertop.sources.prometheus.assemble import queries
from clustertop.sources.prometheus.client import Labels, PromError, Series
from clustertop.sources.prometheus.gpus import (
    GPU_FIELDS,
    GPU_INFO,
    GPU_LABELS,
    GPU_METRICS,
    gpu_keep,
)
from clustertop.sources.prometheus.promql import CPU_IDLE, NODE_QUERIES

FLEET_MIN_HOSTS = 200
"""Above this many hosts a reading asks each interval only for what the grid, the summary and
the alerts show; at or below it every query is asked every time (the answers are small)."""
INFO_EVERY = 8
"""Readings between two askings of the GPUs' labels (UUID, model, pod...) and memory sizes in a
large fleet: they are about a fifth of the series and change only when a job or a GPU does."""
DETAIL_FIELDS = ("gpu_power", "gpu_mem_util", "gpu_fb_free")
"""GPU fields no row, summary or alert shows: asked for the open host only."""
CPU_DETAIL = "cpu_modes"
"""The open host's CPU modes (user, system, iowait shares), which the fleet's readings leave out."""


def fleet_queries(host_label: str) -> dict[str, str]:
    """Each interval's queries in a large fleet; sparse where only exceptions matter."""
    lean = {
        name: promql
        for name, promql in queries(host_label).items()
        if name not in (GPU_INFO, CPU_DETAIL) and name not in DETAIL_FIELDS
    }
    lean |= CPU_IDLE  # the busy share alone: the modes for the open host (detail_queries)
    keep = gpu_keep(host_label)
    lean["up"] = "up == 0"  # only the down targets: their hosts get the targets API's reason
    for name in ("mem_free", "mem_buffers", "mem_cached"):
        # Needed only by kernels without MemAvailable (before 3.14): those hosts alone.
        lean[name] = f"{lean[name]} unless node_memory_MemAvailable_bytes"
    # 0: no error. Compared before the max (XIDs are never negative: the same series): the
    # max is then taken of the few GPUs with an error, not of all (0.16 -> 0.10 s of
    # Prometheus's time a reading at 5,000 x 8).
    lean["gpu_xid"] = f"max by ({keep}) ({GPU_FIELDS['gpu_xid']} != 0)"
    # The SM clock only shows a GPU that has no utilisation field (exporters set up so). It is
    # asked with the utilisation, tagged (split_clock parts them): `clock unless util` had
    # Prometheus evaluate the utilisation a second time (0.18-0.20 s a reading at 5,000 x 8).
    clock = lean.pop("gpu_sm_clock")
    lean["gpu_util"] = (
        f'{lean["gpu_util"]} or on ({keep}) label_replace({clock}, "{CLOCK_TAG}", "1", "", "")'
    )
    return lean


CLOCK_TAG = "clustertop_sm_clock"
"""The label the fleet's utilisation query puts on the SM clocks it carries."""
Untagged = dict[int, tuple[Labels, Labels]]
"""A tagged label set's id: the set, and a copy without the tag (made once, while it comes back)."""


def split_clock(found: list[Series], untagged: Untagged) -> tuple[list[Series], list[Series]]:
    """The fleet's utilisation answer parted into utilisation and SM clocks (their tag taken
    off: each set's copy is kept in `untagged` for the next reading, so its series keep the
    same labels as the decoder keeps the tagged ones)."""
    # In C: this runs over 40,000 series each reading, which at most exporters carry no tag.
    if not any(map(dict.__contains__, map(itemgetter(0), found), repeat(CLOCK_TAG))):
        untagged.clear()
        return found, []
    before = dict(untagged)
    untagged.clear()
    util, clocks = [], []
    for labels, value in found:
        if CLOCK_TAG not in labels:
            util.append((labels, value))
            continue
        got = before.get(id(labels))
        if got is None or got[0] is not labels:
            got = (labels, {k: v for k, v in labels.items() if k != CLOCK_TAG})
        untagged[id(labels)] = got
        clocks.append((got[1], value))
    return util, clocks


def part_clock(answers: dict[str, list[Series] | PromError], untagged: Untagged) -> None:
    """A fleet reading's utilisation answer parted, in place, into utilisation and SM clocks
    (split_clock); a failed one is the error of both (the SM clocks were asked with it)."""
    util = answers.get("gpu_util")
    if isinstance(util, list):
        answers["gpu_util"], answers["gpu_sm_clock"] = split_clock(util, untagged)
    elif util is not None:
        answers["gpu_sm_clock"] = util


LABELLED_BY = ("gpu_util", "gpu_gr_active")
"""The fields whose series name every GPU (utilisation) and MIG instance (engine activity) of
a usual dcgm-exporter: a large fleet's GPU labels are asked from these alone."""
GPU_FB_FREE_ALL = "gpu_fb_free_all"
"""FB_FREE of every GPU, asked with the labels: with FB_USED, each GPU's memory size."""


def info_queries(host_label: str) -> dict[str, str]:
    """What is kept between readings: each GPU's labels and its free memory (for its size).
    Selecting 40,000 series of one metric is most of a GPU query's cost in Prometheus: the
    labels from 2 metrics instead of 6 (1.28 s -> 0.46 s of its CPU at 5,000 x 8), selected
    raw, with their values: the utilisation and engine activity are read from them
    (labelled.py); the size from FB_FREE alone added to the reading's FB_USED (0.63 s -> 0.34
    s). GPUs that neither metric names (an exporter without utilisation) get their labels
    from labels_fallback."""
    read = "|".join(GPU_FIELDS[n] for n in LABELLED_BY)
    return {
        GPU_LABELS: f'{{__name__=~"{read}"}}',
        GPU_FB_FREE_ALL: f"max by ({gpu_keep(host_label)}) ({GPU_FIELDS['gpu_fb_free']})",
    }


def labels_fallback() -> str:
    """Every GPU's labels from every field the fleet's readings ask (the former labels query)."""
    return _labels_of(n for n in GPU_FIELDS if n not in DETAIL_FIELDS)


def _labels_of(fields: Iterable[str]) -> str:
    """One series per GPU with its whole label set, from the named fields' metrics."""
    read = "|".join(GPU_FIELDS[n] for n in fields)
    return f'group without () ({{__name__=~"{read}"}})'


def sizes(used: Iterable[Series], free: Iterable[Series]) -> list[Series]:
    """Each GPU's memory size (FB_USED + FB_FREE, MiB) from two `max by` the placing labels,
    labelled as its FB_USED series: what a full reading adds up per GPU from the same two.
    A GPU is keyed by its label values (both answers hold the same labels, in name order):
    built in C, as its pairs would not be (0.06 s instead of 0.11-0.12 s at 5,000 x 8)."""
    free_of = {tuple(labels.values()): value for labels, value in free}
    found = []
    for labels, value in used:
        got = free_of.get(tuple(labels.values()))
        if got is not None:
            found.append((labels, value + got))
    return found


def _string(text: str) -> str:
    """A PromQL string literal (Go's escapes, which JSON's are a subset of)."""
    return json.dumps(text)


def host_matchers(host_label: str, host: str) -> list[str]:
    """Label matchers that select one host's series (as host_key places them)."""
    port = _string(re.escape(host) + "(:[0-9]+)?")
    found = [f"{host_label}=~{port}"]
    if host_label == "instance":
        found += [f"Hostname={_string(host)}", f"hostname={_string(host)}"]
    return found


def detail_queries(host_label: str, host: str) -> dict[str, str]:
    """The open host's CPU modes, GPU fields and labels that the fleet's readings leave out."""
    matchers = host_matchers(host_label, host)
    # node_exporter's series name a host by the host label alone.
    own = f"node_cpu_seconds_total{{{matchers[0]}}}"
    cpu = NODE_QUERIES[CPU_DETAIL].replace("node_cpu_seconds_total", own)

    def pick(selector: str) -> str:
        return " or ".join(f"{{{selector}, {m}}}" for m in matchers)

    keep = gpu_keep(host_label)
    found = {
        name: f"max by ({keep}) ({pick(f'__name__={_string(GPU_FIELDS[name])}')})"
        for name in DETAIL_FIELDS
    }
    # Filed last: the labels of this reading win over those kept from before.
    found[GPU_INFO] = f"group without () ({pick(f'__name__=~{_string(GPU_METRICS)}')})"
    return {CPU_DETAIL: cpu, **found}


__all__ = [
    "CLOCK_TAG", "CPU_DETAIL", "FLEET_MIN_HOSTS", "GPU_FB_FREE_ALL", "INFO_EVERY", "LABELLED_BY",
    "Untagged", "detail_queries", "fleet_queries", "info_queries", "labels_fallback",
    "part_clock", "sizes", "split_clock",
]  # fmt: skip
