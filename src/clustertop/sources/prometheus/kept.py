"""A large fleet's GPU labels and memory sizes, read every few readings and kept between them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from clustertop.sources.prometheus.assemble import Answers
from clustertop.sources.prometheus.client import Labels, Series
from clustertop.sources.prometheus.fleet import DETAIL_FIELDS
from clustertop.sources.prometheus.gpus import GPU_FIELDS

_FOUND_BY = tuple(n for n in GPU_FIELDS if n not in DETAIL_FIELDS)
"""The fields of a fleet's reading that find GPUs (each makes the GPU it names)."""


_PLACING = ("Hostname", "hostname", "instance", "gpu", "GPU_I_ID")


def _placer(host_label: str) -> Callable[[Labels], tuple[str | None, ...]]:
    """The GPU (or MIG instance) a series is filed under, as the values of the labels that
    place it (host_key's and the GPU's): both answers carry them, the fields no other."""
    names = (*_PLACING, host_label)
    return lambda labels: tuple(map(labels.get, names))


def sizes(used: Iterable[Series], free: Iterable[Series], host_label: str) -> list[Series]:
    """Each GPU's memory size (FB_USED + FB_FREE, MiB), labelled as its FB_USED series: what a
    full reading adds up per GPU from the same two answers."""
    place = _placer(host_label)
    free_of = {place(labels): value for labels, value in free}
    found = []
    for labels, value in used:
        got = free_of.get(place(labels))
        if got is not None:
            found.append((labels, value + got))
    return found


def unlabelled(answers: Answers, labels: Iterable[Series], host_label: str) -> bool:
    """Whether a GPU that this reading's fields find has no series among `labels`."""
    place = _placer(host_label)
    named = {place(got) for got, _ in labels}
    for name in _FOUND_BY:
        answer = answers.get(name)
        if isinstance(answer, list) and not named.issuperset(place(got) for got, _ in answer):
            return True
    return False


__all__ = ["sizes", "unlabelled"]
