"""A large fleet's GPU labels and memory sizes, read every few readings and kept between them."""

from __future__ import annotations

from collections.abc import Iterable

from clustertop.sources.prometheus.assemble import Answers, host_key
from clustertop.sources.prometheus.client import Labels, Series
from clustertop.sources.prometheus.fleet import DETAIL_FIELDS
from clustertop.sources.prometheus.gpus import GPU_FIELDS

_FOUND_BY = tuple(n for n in GPU_FIELDS if n not in DETAIL_FIELDS)
"""The fields of a fleet's reading that find GPUs (each makes the GPU it names)."""


def _place(labels: Labels, host_label: str) -> tuple[str, str, str]:
    """The GPU (or MIG instance) a series is filed under: its host, index and instance."""
    return host_key(labels, host_label), labels.get("gpu", ""), labels.get("GPU_I_ID", "")


def sizes(used: Iterable[Series], free: Iterable[Series], host_label: str) -> list[Series]:
    """Each GPU's memory size (FB_USED + FB_FREE, MiB), labelled as its FB_USED series: what a
    full reading adds up per GPU from the same two answers."""
    free_of = {_place(labels, host_label): value for labels, value in free}
    found = []
    for labels, value in used:
        got = free_of.get(_place(labels, host_label))
        if got is not None:
            found.append((labels, value + got))
    return found


def unlabelled(answers: Answers, labels: Iterable[Series], host_label: str) -> bool:
    """Whether a GPU that this reading's fields find has no series among `labels`."""
    named = {_place(got, host_label) for got, _ in labels}
    for name in _FOUND_BY:
        answer = answers.get(name)
        if isinstance(answer, list) and any(
            _place(got, host_label) not in named for got, _ in answer
        ):
            return True
    return False


__all__ = ["sizes", "unlabelled"]
