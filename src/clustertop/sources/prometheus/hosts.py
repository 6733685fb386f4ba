"""Where a series belongs: its host (by label), that host's filed series, and each filing kept."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from clustertop.sources.prometheus.memo import Labels


def strip_port(instance: str) -> str:
    """'gpu01:9100' -> 'gpu01', '[::1]:9100' -> '::1'; an address without a port unchanged."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    host, sep, port = instance.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else instance


def host_key(labels: Labels, host_label: str = "instance") -> str:
    """The host a series belongs to: `host_label` (without a port), but for dcgm-exporter its
    Hostname label, which names the node when the exporter runs elsewhere."""
    if host_label != "instance" and labels.get(host_label):
        return strip_port(labels[host_label])
    for name in ("Hostname", "hostname"):
        if labels.get(name):
            return labels[name]
    return strip_port(labels.get(host_label, ""))


@dataclass
class HostData:
    """One host's series of one reading, filed by section (equal when the readings are)."""

    values: dict[str, float] = field(default_factory=dict)
    cpu_modes: dict[str, float] = field(default_factory=dict)
    disks: dict[tuple[str, str, str], dict[str, float]] = field(default_factory=dict)
    gpus: dict[str, dict[str, object]] = field(default_factory=dict)
    containers: dict[str, dict[str, object]] = field(default_factory=dict)
    down: list[str] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return bool(self.values or self.cpu_modes or self.disks or self.gpus or self.containers)


Filed = tuple["list[HostData | None]", "list[dict[str, Any] | None]", "list[str] | str"]
"""Where an answer's values were filed, series by series: each one's host and the dict that
holds it there (None: a series not filed), and its key in that dict (one for them all, or
each one's)."""
Filings = dict[str, "Filed | None"]
"""Each answer's Filed (None: an answer whose values are not filed, only its labels)."""


def placer(
    host_label: str, hosts: dict[str, HostData], seen: dict[str, str] | None = None
) -> Callable[[Labels], HostData]:
    """The HostData of a series' host (host_key), made on first use. Each host label's
    port is stripped once, not once per series (5,000 hosts: 200,000 series a reading); `seen`
    (kept by the caller) collects each host label value with its host for hot_queries."""
    portless: dict[str, str] = {} if seen is None else seen
    if len(portless) > SEEN_MAX:
        portless.clear()

    def place(labels: Labels) -> HostData:
        # host_key's rule, inlined: dcgm-exporter's Hostname unless another host label is set.
        key = None
        if host_label == "instance" or not labels.get(host_label):
            key = labels.get("Hostname") or labels.get("hostname")
        if not key:
            raw = labels.get(host_label, "")
            key = portless.get(raw)
            if key is None:
                key = portless[raw] = strip_port(raw)
        # get, then create: setdefault would build a HostData for each series.
        host = hosts.get(key)
        if host is None:
            host = hosts[key] = HostData()
        return host

    return place


SEEN_MAX = 500_000
"""Host label values remembered at most (then forgotten all at once, and learnt again)."""


__all__ = ["Filed", "Filings", "HostData", "host_key", "placer", "strip_port"]
