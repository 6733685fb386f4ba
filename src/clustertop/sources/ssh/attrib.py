"""Attribution over SSH: the probe's `a` lines (cgroup paths, sent once per process)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from clustertop.model import ContainerRef
from clustertop.model.attribution import DOCKER, NONE, Attribution
from clustertop.parsers.cgroup import classify_paths
from clustertop.sources.ssh.sections import ProcsReading


@functools.lru_cache(maxsize=4096)
def _classified(paths: str) -> Attribution:
    # Hosts' processes sit in the same few cgroups: one (frozen) Attribution for each.
    return classify_paths(paths)


def row_attributions(reading: ProcsReading, before: ProcsReading | None) -> dict[int, Attribution]:
    """Each row's attribution by PID.

    A row whose arguments came fresh (not "=": the probe sends them and its `a` line once) is
    classified from its `a` line (none: nothing to attribute); other rows keep what the same
    process (PID and start) had in `before`, the last reading with every row since the last
    full scan.
    """
    by_pid: dict[int, Attribution] = {}
    for pid, row in reading.rows.items():
        if row.command != "=":
            by_pid[pid] = _classified(reading.cgroups.get(pid, ""))
        elif before is not None and same_process(before, pid, row.start_ticks):
            found = before.attributions.get(pid)
            if found is not None:
                by_pid[pid] = found
    return by_pid


def sent_before(before: ProcsReading | None, pid: int, start_ticks: int) -> str:
    """The arguments the probe sent for this process (PID and start) since the last full scan,
    which "=" stands for; "" when `before` does not have them."""
    row = before.rows.get(pid) if before is not None else None
    return row.command if row is not None and row.start_ticks == start_ticks else ""


def same_process(reading: ProcsReading, pid: int, start_ticks: int) -> bool:
    """True when the reading has a row for this PID that started at `start_ticks`."""
    row = reading.rows.get(pid)
    return row is not None and row.start_ticks == start_ticks


def docker_ref(
    container_id: str | None, found: Attribution | None, names: Mapping[str, str]
) -> ContainerRef | None:
    """The Docker container of a row: its cgroup's 64-hex id, unless the attribution says it is
    a pod's or podman's (a bare id under kubepods is not Docker's)."""
    if container_id is None or (found is not None and found.kind not in (DOCKER, NONE)):
        return None
    return ContainerRef(container_id, names.get(container_id, ""))
