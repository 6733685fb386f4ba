"""A large fleet's first reading filed answer by answer as they come, in the decoding thread.

At 5,000 hosts x 8 GPUs the first reading's answers come over 2-3 s, and filing them all after
the last one took 0.25-0.3 s of the join (with Prometheus idle by then). Each answer is filed
here once those before it in its section (`section`) are: only the last ones wait for the
join. The result is what group_hosts makes of the reading's answers; `finish` checks that the
answers filed are the reading's (the same objects, or equal lists), else gives None and the
reading is grouped anew as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from clustertop.sources.prometheus.client import PromError, Series, TargetHealth
from clustertop.sources.prometheus.fleet import GPU_FB_FREE_ALL, Untagged, part_clock, sizes
from clustertop.sources.prometheus.gpus import GPU_FB_TOTAL, GPU_LABELS, BuiltGpus, build_gpus
from clustertop.sources.prometheus.grouping import GPU_NAMES, file_answer, mark_down
from clustertop.sources.prometheus.hosts import Filings, HostData, placer
from clustertop.sources.prometheus.labelled import PARTED, SM_CLOCK, LabelMemo, part_labels
from clustertop.sources.prometheus.promql import CONTAINER_QUERIES, DISK_QUERIES, Answers


def section(name: str) -> str:
    """The part of a host an answer is filed into: answers of one section are filed in the
    reading's order; others (each node value, the CPU modes) stand alone."""
    if name in GPU_NAMES:
        return "gpu"
    if name in DISK_QUERIES:
        return "disk"
    return "ctr" if name in CONTAINER_QUERIES else name


class Streamed:
    """Answers filed as they are offered, each section in `order`; every method but
    `__init__` runs in the decoding thread (one at a time: no lock)."""

    def __init__(
        self, order: Sequence[str], host_label: str, seen: dict[str, str] | None = None
    ) -> None:
        self.order = list(order)
        self.host_label = host_label
        self.hosts: dict[str, HostData] = {}
        self.filings: Filings = {}
        self._place = placer(host_label, self.hosts, seen)
        self._queues: dict[str, list[str]] = {}
        for name in self.order:
            self._queues.setdefault(section(name), []).append(name)
        self._offered: dict[str, object] = {}
        self._filed: set[str] = set()
        self.broken = False
        """True once something went wrong here: the reading is then grouped anew."""
        self.built: dict[str, BuiltGpus] = {}
        """Each host's GPU records, when the GPU answers came before others (_build_gpus)."""

    def offer(self, name: str, answer: object) -> None:
        """One answer as it will be filed: filed now if its section's earlier ones are."""
        if self.broken or name in self._offered or name not in self.order:
            self.broken = True
            return
        self._offered[name] = answer
        try:
            self._file_ready(self._queues[section(name)])
        except Exception:  # noqa: BLE001 - any fault: the join groups the reading anew
            self.broken = True

    def _file_ready(self, queue: list[str]) -> None:
        while queue and queue[0] in self._offered:
            name = queue.pop(0)
            file_answer(name, self._offered[name], self._place, self.filings)
            self._filed.add(name)
            if not queue and section(name) == "gpu" and len(self._filed) < len(self.order):
                self._build_gpus()

    def _build_gpus(self) -> None:
        """Every host's GPU records, made as soon as the GPU answers are all filed (no later
        answer changes them) while others are still to come: 40,000 at 5,000 x 8, most of
        the snapshots' cost, no longer after the last answer."""
        for name, host in self.hosts.items():
            if host.gpus:
                working: list[Mapping[str, object]] = []
                self.built[name] = (build_gpus(host.gpus, working), working)

    def finish(
        self, answers: Answers, targets: Sequence[TargetHealth] | None
    ) -> tuple[dict[str, HostData], Filings] | None:
        """The hosts and filings of `answers` (the reading's, as the join files them), or
        None when they are not the answers offered here."""
        if self.broken or list(answers) != self.order or not _same(answers, self._offered):
            return None
        for queue in self._queues.values():
            self._file_ready(queue)
        mark_down(self.hosts, answers, targets, self.host_label)
        self.hosts.pop("", None)  # series with no host label at all cannot be placed
        filings = {n: self.filings[n] for n in self.order if n in self.filings}
        return self.hosts, filings


class FleetStream(Streamed):
    """A large fleet's first reading (PrometheusSource._with_kept's answers, made as they
    come): the utilisation and engine activity read from the labels' answer (labelled.py),
    with the SM clocks asked beside it, filed after the other fields (without the labels
    asked: the utilisation parted from the SM clocks asked with it); the GPUs' labels and
    sizes (FB_USED + FB_FREE) last, once all three are in."""

    def __init__(
        self,
        wanted: Sequence[str],
        host_label: str,
        untagged: Untagged,
        seen: dict[str, str] | None = None,
        labelled: LabelMemo | None = None,
    ) -> None:
        self._parts = GPU_LABELS in wanted
        if self._parts:
            lean = [n for n in wanted if n not in (GPU_LABELS, GPU_FB_FREE_ALL, SM_CLOCK)]
            order = [*lean, *PARTED, GPU_LABELS, GPU_FB_TOTAL]
        else:
            lean = [n for n in wanted if n != GPU_FB_FREE_ALL]
            order = [*lean, SM_CLOCK, GPU_LABELS, GPU_FB_TOTAL]
        super().__init__(order, host_label, seen)
        self.gpu_names = frozenset(n for n in wanted if section(n) == "gpu" or n == GPU_FB_FREE_ALL)
        """The queries whose answers make the GPU records (asked before the others)."""
        self._untagged = untagged
        self._labelled: LabelMemo = {} if labelled is None else labelled
        self._info: dict[str, object] = {}
        self._raw: dict[str, object] = {}
        """The labels' raw answer and the SM clocks, until both are in."""

    def take(self, name: str, answer: object) -> None:
        """One answer as it came (decoding thread)."""
        try:
            self._take(name, answer)
        except Exception:  # noqa: BLE001 - any fault: the join groups the reading anew
            self.broken = True

    def _take(self, name: str, answer: object) -> None:
        if self._parts and name in (GPU_LABELS, SM_CLOCK):
            self._raw[name] = answer
            if len(self._raw) == 2:
                self._part()
            return
        if name == "gpu_util":
            both: dict[str, list[Series] | PromError] = {name: answer}  # type: ignore[dict-item]
            part_clock(both, self._untagged)
            for part, got in both.items():
                self.offer(part, got)
            return
        if name in (GPU_FB_FREE_ALL, "gpu_fb_used"):
            self._info[name] = answer
            if name == "gpu_fb_used":
                self.offer(name, answer)
            if len(self._info) == 3:
                self._kept()
            return
        self.offer(name, answer)

    def _part(self) -> None:
        """The fields read from the labels' answer, offered; its labels kept for _kept."""
        raw, clocks = self._raw[GPU_LABELS], self._raw[SM_CLOCK]
        if not isinstance(raw, (list, PromError)) or not isinstance(clocks, (list, PromError)):
            self.broken = True
            return
        parted = part_labels(raw, clocks, self.host_label, self._labelled)
        self._info[GPU_LABELS] = parted.pop(GPU_LABELS)
        for name, got in parted.items():
            self.offer(name, got)
        if len(self._info) == 3:
            self._kept()

    def _kept(self) -> None:
        labels, free, used = (self._info[n] for n in (GPU_LABELS, GPU_FB_FREE_ALL, "gpu_fb_used"))
        # Else the join keeps neither: not the order offered here, so grouped anew.
        if isinstance(used, list) and isinstance(free, list) and not isinstance(labels, PromError):
            self.offer(GPU_LABELS, labels)
            self.offer(GPU_FB_TOTAL, sizes(used, free))

    def made(self) -> Mapping[str, object] | None:
        """The utilisation, engine activity and SM clocks read from the labels' answer, the
        bare labels and the sizes, as the join would make them again from the same answers
        (PrometheusSource._with_kept then takes these: 0.05-0.08 s less between the last
        answer and the first grid at 5,000 x 8); None unless all were made."""
        wanted = (*PARTED, GPU_LABELS, GPU_FB_TOTAL)
        if self.broken or not self._parts or any(n not in self._offered for n in wanted):
            return None
        return {n: self._offered[n] for n in wanted}


def _same(answers: Mapping[str, object], offered: Mapping[str, object]) -> bool:
    """Every answer is the one offered (the same object, or an equal list: the SM clocks and
    sizes are made again by the join)."""
    for name, answer in answers.items():
        if name not in offered:
            return False
        got = offered[name]
        if got is not answer and not (type(got) is list and got == answer):
            return False
    return True


__all__ = ["FleetStream", "Streamed", "section"]
