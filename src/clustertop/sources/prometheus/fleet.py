"""A large fleet's readings: every row's values each interval, the rest only for the open host."""

from __future__ import annotations

import json
import re

from clustertop.sources.prometheus.assemble import queries
from clustertop.sources.prometheus.gpus import (
    GPU_FB_TOTAL,
    GPU_FIELDS,
    GPU_INFO,
    GPU_LABELS,
    GPU_METRICS,
    gpu_keep,
)

FLEET_MIN_HOSTS = 200
"""Above this many hosts a reading asks each interval only for what the grid, the summary and
the alerts show; at or below it every query is asked every time (the answers are small)."""
INFO_EVERY = 8
"""Readings between two askings of the GPUs' labels (UUID, model, pod...) and memory sizes in a
large fleet: they are about a fifth of the series and change only when a job or a GPU does."""
DETAIL_FIELDS = ("gpu_power", "gpu_mem_util", "gpu_fb_free")
"""GPU fields no row, summary or alert shows: asked for the open host only."""


def fleet_queries(host_label: str) -> dict[str, str]:
    """Each interval's queries in a large fleet; sparse where only exceptions matter."""
    lean = {
        name: promql
        for name, promql in queries(host_label).items()
        if name != GPU_INFO and name not in DETAIL_FIELDS
    }
    keep = gpu_keep(host_label)
    lean["up"] = "up == 0"  # only the down targets: their hosts get the targets API's reason
    for name in ("mem_free", "mem_buffers", "mem_cached"):
        # Needed only by kernels without MemAvailable (before 3.14): those hosts alone.
        lean[name] = f"{lean[name]} unless node_memory_MemAvailable_bytes"
    lean["gpu_xid"] = f"max by ({keep}) ({GPU_FIELDS['gpu_xid']}) != 0"  # 0: no error
    # The SM clock only shows a GPU that has no utilisation field (exporters set up so).
    lean["gpu_sm_clock"] = f"{lean['gpu_sm_clock']} unless {lean['gpu_util']}"
    return lean


def info_queries(host_label: str) -> dict[str, str]:
    """What is kept between readings: each GPU's labels and memory size."""
    used, free = GPU_FIELDS["gpu_fb_used"], GPU_FIELDS["gpu_fb_free"]
    # Labels are given only to GPUs the fleet's fields found: those fields' series suffice
    # (5 of 8 metrics; the heaviest query of a large fleet's reading: 3.7 s -> 3.1 s measured).
    read = "|".join(GPU_FIELDS[n] for n in GPU_FIELDS if n not in DETAIL_FIELDS)
    return {
        GPU_LABELS: f'group without () ({{__name__=~"{read}"}})',
        GPU_FB_TOTAL: f"max by ({gpu_keep(host_label)}) ({used} + {free})",
    }


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
    """The open host's GPU fields and labels that the fleet's readings leave out."""
    matchers = host_matchers(host_label, host)

    def pick(selector: str) -> str:
        return " or ".join(f"{{{selector}, {m}}}" for m in matchers)

    keep = gpu_keep(host_label)
    found = {
        name: f"max by ({keep}) ({pick(f'__name__={_string(GPU_FIELDS[name])}')})"
        for name in DETAIL_FIELDS
    }
    # Filed last: the labels of this reading win over those kept from before.
    found[GPU_INFO] = f"group without () ({pick(f'__name__=~{_string(GPU_METRICS)}')})"
    return found


__all__ = ["FLEET_MIN_HOSTS", "INFO_EVERY", "detail_queries", "fleet_queries", "info_queries"]
