"""Bounded per-host history of CPU, memory, traffic, disk I/O and per-GPU readings, for charts."""

from __future__ import annotations

import math
from array import array
from enum import Enum
from typing import TYPE_CHECKING, cast

from clustertop.model import HostSnapshot
from clustertop.model.network import disk_totals, off_host_rates

if TYPE_CHECKING:
    from clustertop.config.settings import Config

MAX_POINTS = 360
"""Most points kept per series, whatever the window."""

Point = tuple[float, float | None]
"""(unix time of the newest reading in the bucket, mean value or None when unknown)."""

_COUNT_CAP = 255  # past this many samples in one bucket the mean weighs new samples a bit more


class Metric(str, Enum):
    """What a series measures."""

    CPU = "cpu"
    """Host CPU busy share, percent."""
    MEMORY = "memory"
    """Host memory used, bytes."""
    GPU_UTIL = "gpu_util"
    """One GPU's utilisation, percent."""
    GPU_MEMORY = "gpu_memory"
    """One GPU's memory used, bytes."""
    NET_RX = "net_rx"
    """Bytes received per second by the physical and InfiniBand interfaces."""
    NET_TX = "net_tx"
    """Bytes sent per second by the physical and InfiniBand interfaces."""
    DISK_READ = "disk_read"
    """Bytes read per second from the whole block devices."""
    DISK_WRITE = "disk_write"
    """Bytes written per second to the whole block devices."""

    def __str__(self) -> str:
        return self.value


_EMPTY = math.nan
"""An empty slot: NaN in the float32 ring (a NaN sample is no sample, so it cannot be a mean)."""


class _Series(array):  # type: ignore[type-arg]
    """One metric over the host's ring of buckets: running means as float32, NaN where a slot
    holds none, and the sample count of the newest bucket's mean.

    Samples only ever go into the host's newest bucket, whose slot every series empties when
    the bucket opens: so an empty slot means a new mean, and only that bucket's count is kept.
    The ring is the series object itself (an array subclass): one object a series, no bitmap.
    """

    __slots__ = ("samples",)

    def __new__(cls, slots: int) -> _Series:
        ring = _EMPTY_RINGS.get(slots) or _empty_ring(slots)
        series = cast(_Series, super().__new__(cls, "f", ring))
        series.samples = 0
        """Samples averaged into the newest bucket's slot."""
        return series

    def put(self, slot: int, value: float) -> None:
        """Average `value` into the slot (an empty slot takes it as is; NaN is no sample)."""
        if math.isnan(value):
            return
        old = self[slot]
        if math.isnan(old):
            self[slot] = value
            self.samples = 1
            return
        count = self.samples
        if count < _COUNT_CAP:
            count += 1
            self.samples = count
        self[slot] = old + (value - old) / count


_EMPTY_RINGS: dict[int, bytes] = {}
"""Slots -> the bytes of an all-empty ring, made once."""


def _empty_ring(slots: int) -> bytes:
    ring = _EMPTY_RINGS[slots] = array("f", [_EMPTY]).tobytes() * slots
    return ring


RATE_METRICS = (Metric.NET_RX, Metric.NET_TX, Metric.DISK_READ, Metric.DISK_WRITE)
"""Host-wide rates: their series exist only for hosts that reported one (no cost otherwise)."""


def host_rates(snap: HostSnapshot) -> dict[Metric, float | None]:
    """The snapshot's traffic and disk I/O totals, as the rate series record them."""
    rx, tx = off_host_rates(snap.interfaces)
    read, write, _ = disk_totals(snap.disk_io)
    return {Metric.NET_RX: rx, Metric.NET_TX: tx, Metric.DISK_READ: read, Metric.DISK_WRITE: write}


_Values = tuple[
    float | None,
    float | None,
    tuple[tuple[Metric, float], ...],
    tuple[tuple[str, float | None, float | None], ...],
]
"""What a snapshot adds to every series: CPU, memory, rates and (uuid, util, memory) per GPU."""
_last_values: list[tuple[HostSnapshot | None, _Values]] = [(None, (None, None, (), ()))]
"""The last snapshot and its values (a snapshot goes to the 1 h, 24 h and 7 d histories in a
row); one pair, replaced whole: safe beside a thread loading the past into other histories."""


def _values(snap: HostSnapshot) -> _Values:
    """The snapshot's values for the series, worked out once for the histories it goes to."""
    last, values = _last_values[0]
    if last is snap:
        return values
    cpu = snap.cpu.percent if snap.cpu is not None else None
    memory = snap.memory.used if snap.memory is not None else None
    rates: tuple[tuple[Metric, float], ...] = ()
    if snap.interfaces or snap.disk_io:
        rates = tuple((m, v) for m, v in host_rates(snap).items() if v is not None)
    gpus = tuple(
        (gpu.uuid, gpu.util_percent, gpu.memory_used)
        for gpu in snap.gpus
        # nothing to record: no series, so nothing to allocate and prune
        if gpu.uuid and (gpu.util_percent is not None or gpu.memory_used is not None)
    )
    values = (cpu, memory, rates, gpus)
    _last_values[0] = (snap, values)
    return values


class _GpuSeries:
    """Utilisation and memory of one GPU, and the newest bucket either got a value in."""

    __slots__ = ("last_bucket", "memory", "util")

    def __init__(self, slots: int) -> None:
        self.util = _Series(slots)
        self.memory = _Series(slots)
        self.last_bucket = -1


class _HostHistory:
    """The ring of buckets of one host: which slots hold a bucket, when, and every series.

    The newest bucket is `newest`; a slot holds the last bucket at or before it that falls on
    the slot, or none (a bit per slot: buckets skipped while the host was down are emptied
    as the ring moves past them). A slot's time is the newest reading's, as a float32 offset
    from the start of its bucket (at most 1 us off for 10 s buckets, 0.1 ms for half-hour ones).
    """

    __slots__ = ("cpu", "gpus", "held", "memory", "newest", "rates", "snapshot", "times")

    def __init__(self, slots: int) -> None:
        self.held = bytearray((slots + 7) // 8)
        self.times = array("f", bytes(4 * slots))
        self.cpu = _Series(slots)
        self.memory = _Series(slots)
        self.gpus: dict[str, _GpuSeries] = {}
        self.rates: dict[Metric, _Series] = {}
        self.newest = -1
        self.snapshot: HostSnapshot | None = None

    def holds(self, slot: int) -> bool:
        """True when the slot holds a bucket (the host was up in it)."""
        return bool(self.held[slot >> 3] & (1 << (slot & 7)))

    def open_bucket(self, bucket: int, slots: int) -> None:
        """Make `bucket` the newest: empty its slot, drop the buckets skipped since the last
        one (gaps; their slots are emptied when reused), drop GPUs not seen for a window."""
        if self.newest >= 0:
            for gap in range(max(self.newest + 1, bucket - slots + 1), bucket):
                self.held[(gap % slots) >> 3] &= 0xFF ^ (1 << (gap % slots & 7))
        slot = bucket % slots
        self.held[slot >> 3] |= 1 << (slot & 7)
        self.newest = bucket
        self.cpu[slot] = _EMPTY
        self.memory[slot] = _EMPTY
        for rate in self.rates.values():
            rate[slot] = _EMPTY
        gone = []
        for uuid, gpu in self.gpus.items():
            gpu.util[slot] = _EMPTY
            gpu.memory[slot] = _EMPTY
            if bucket - gpu.last_bucket >= slots:
                gone.append(uuid)
        for uuid in gone:
            del self.gpus[uuid]


class History:
    """The last `window_s` seconds of each host's readings, at most MAX_POINTS per series.

    Time is cut into buckets of `resolution_s` seconds (at least window_s / MAX_POINTS); each
    series keeps one value per bucket in a fixed ring, so memory per host is fixed from its
    first reading on (plus one small ring per GPU). Several readings in one bucket are
    AVERAGED (a running mean); the point's time is that of the newest reading in the bucket.
    Only up snapshots add points: a host that is down leaves a gap (buckets with no point).
    A snapshot older than the host's newest bucket is dropped, unless the clock went back by
    more than a window, which starts the host afresh. GPUs are keyed by UUID (GPUs without
    one, and readings with neither value, are skipped); a GPU not seen for a whole window is
    dropped.
    """

    def __init__(self, window_s: float = 3600.0, resolution_s: float | None = None) -> None:
        if window_s <= 0:
            raise ValueError("history window must be positive")
        self.window_s = window_s
        """Seconds of readings kept."""
        self.resolution_s = max(resolution_s or 0.0, window_s / MAX_POINTS)
        """Seconds per bucket (one point per series per bucket)."""
        # The epsilon keeps 3600 / 10.000000000000002 from rounding up to 361 slots.
        self.slots = min(MAX_POINTS, max(1, math.ceil(window_s / self.resolution_s - 1e-9)))
        """Buckets per series."""
        self._hosts: dict[str, _HostHistory] = {}

    @classmethod
    def from_config(cls, config: Config) -> History:
        """A history of the config's `history` seconds, sampled every `interval`."""
        return cls(config.history, config.interval)

    def add(self, snap: HostSnapshot) -> None:
        """Record one snapshot; O(GPUs of the snapshot)."""
        host = self._hosts.get(snap.name)
        if host is None:
            host = self._hosts[snap.name] = _HostHistory(self.slots)
        host.snapshot = snap
        if not snap.is_up:
            return
        bucket = math.floor(snap.time / self.resolution_s)
        if bucket < host.newest:
            if host.newest - bucket < self.slots:
                return
            host = self._hosts[snap.name] = _HostHistory(self.slots)
            host.snapshot = snap
        slot = bucket % self.slots
        offset = snap.time - bucket * self.resolution_s
        if bucket != host.newest:
            host.open_bucket(bucket, self.slots)
            host.times[slot] = offset
        elif offset > host.times[slot]:
            host.times[slot] = offset
        self._record(host, snap, slot, bucket)

    def _record(self, host: _HostHistory, snap: HostSnapshot, slot: int, bucket: int) -> None:
        cpu, memory, rates, gpus = _values(snap)
        if cpu is not None:
            host.cpu.put(slot, cpu)
        if memory is not None:
            host.memory.put(slot, memory)
        for metric, value in rates:
            series = host.rates.get(metric)
            if series is None:
                series = host.rates[metric] = _Series(self.slots)
            series.put(slot, value)
        for uuid, util, used in gpus:
            found = host.gpus.get(uuid)
            if found is None:
                found = host.gpus[uuid] = _GpuSeries(self.slots)
            found.last_bucket = bucket
            if util is not None:
                found.util.put(slot, util)
            if used is not None:
                found.memory.put(slot, used)

    def series(self, host: str, metric: Metric | str, gpu_uuid: str | None = None) -> list[Point]:
        """Oldest first: one (time, value) per bucket in which the host was up.

        `value` is None when that reading was unknown (e.g. utilisation N/A). GPU metrics need
        `gpu_uuid`; an unknown host or GPU gives []; an unknown metric name, ValueError.
        """
        history = self._hosts.get(host)
        if history is None:
            return []
        chosen = self._pick(history, Metric(metric), gpu_uuid)
        if chosen is None:
            return []
        points: list[Point] = []
        resolution = self.resolution_s
        for bucket in range(max(history.newest - self.slots + 1, 0), history.newest + 1):
            slot = bucket % self.slots
            if not history.holds(slot):
                continue
            value = chosen[slot]
            time = bucket * resolution + history.times[slot]
            points.append((time, None if math.isnan(value) else value))
        return points

    @staticmethod
    def _pick(history: _HostHistory, metric: Metric, gpu_uuid: str | None) -> _Series | None:
        if metric is Metric.CPU:
            return history.cpu
        if metric is Metric.MEMORY:
            return history.memory
        if metric in RATE_METRICS:
            return history.rates.get(metric)
        gpu = history.gpus.get(gpu_uuid or "")
        if gpu is None:
            return None
        return gpu.util if metric is Metric.GPU_UTIL else gpu.memory

    def last(self, host: str) -> HostSnapshot | None:
        """The newest snapshot added for `host` (in any state)."""
        history = self._hosts.get(host)
        return history.snapshot if history is not None else None

    def gpu_uuids(self, host: str) -> list[str]:
        """UUIDs of the host's GPUs that have a series, in first-seen order."""
        history = self._hosts.get(host)
        return list(history.gpus) if history is not None else []

    def has_rates(self, host: str) -> bool:
        """True when the host reported traffic or disk I/O rates inside the window."""
        history = self._hosts.get(host)
        return bool(history and history.rates)

    def hosts(self) -> list[str]:
        """Hosts with a history, in first-seen order."""
        return list(self._hosts)

    def forget(self, host: str) -> None:
        """Drop everything about `host` (it left the cluster)."""
        self._hosts.pop(host, None)
