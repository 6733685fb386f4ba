"""Attribution over SSH: the probe's `a` lines (cgroup paths, sent once per process)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from clustertop.model import ContainerRef
from clustertop.model.attribution import DOCKER, NONE, Attribution
from clustertop.parsers.cgroup import classify_paths
from clustertop.sources.ssh.sections import ProcsReading

Key = tuple[int, int]
"""(pid, start ticks): one process."""


@functools.lru_cache(maxsize=4096)
def _classified(paths: str) -> Attribution:
    # Hosts' processes sit in the same few cgroups: one (frozen) Attribution for each.
    return classify_paths(paths)


def row_attributions(
    reading: ProcsReading, before: Mapping[Key, Attribution]
) -> tuple[dict[int, Attribution], dict[Key, Attribution]]:
    """Each row's attribution by PID, and what to remember for the next frame.

    A row whose arguments came fresh (not "=": the probe sends them and its `a` line once) is
    classified from its `a` line (none: nothing to attribute); other rows keep what they had.
    Between full scans the rows not sent again are remembered, as their arguments are.
    """
    known: dict[Key, Attribution] = {}
    for pid, (_, args) in reading.details.items():
        key = (pid, reading.rows[pid].start_ticks)
        if args != "=":
            known[key] = _classified(reading.cgroups.get(pid, ""))
        elif key in before:
            known[key] = before[key]
    by_pid = {pid: found for (pid, _), found in known.items()}
    return by_pid, ({**before, **known} if reading.keep else known)


def docker_ref(
    container_id: str | None, found: Attribution | None, names: Mapping[str, str]
) -> ContainerRef | None:
    """The Docker container of a row: its cgroup's 64-hex id, unless the attribution says it is
    a pod's or podman's (a bare id under kubepods is not Docker's)."""
    if container_id is None or (found is not None and found.kind not in (DOCKER, NONE)):
        return None
    return ContainerRef(container_id, names.get(container_id, ""))
