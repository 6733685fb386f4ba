"""Classify a process by its /proc/<pid>/cgroup text: Slurm job, podman, pod, docker, session.

Every line of the file is tried (cgroup v1 has one per hierarchy, and Slurm or containerd move
only some of them); the most specific kind found wins, in this order: pod, podman, docker,
Slurm, login session. A line that is not complete (no newline: the read was cut short), not
of the shape `N:controllers:/path`, or whose ids are not exactly the expected form gives
nothing, so truncated or unknown input means "no attribution", never a wrong owner.
"""

from __future__ import annotations

import re

from clustertop.model.attribution import DOCKER, NONE, POD, PODMAN, SESSION, SLURM, Attribution

_HEX64 = r"[0-9a-f]{64}"
_UUID_DASH = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_UUID_UNDER = r"[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}"
_END = r"(?=/|$)"
_LINE = re.compile(r"^([0-9]{1,6}):[^:]*:(/.*)$")

# Kubernetes: the pod level (cgroupfs `/kubepods[/qos]/pod<uid>`, systemd
# `kubepods[-qos]-pod<uid_with_underscores>.slice`), then the container below it.
_POD_UID = re.compile(
    rf"(?:^|/)kubepods(?:/[a-z]+)?/pod(?P<dash>{_UUID_DASH}){_END}"
    rf"|(?:^|/)kubepods(?:-[a-z]+)?-pod(?P<under>{_UUID_UNDER})\.slice(?=/|:|$)"
)
_POD_CONTAINER = re.compile(
    rf"(?:/|(?<=\.slice):(?:cri-containerd|crio|docker):)"
    rf"(?:(?:cri-containerd|crio|docker)-)?(?P<id>{_HEX64})(?:\.scope)?{_END}"
)
# Runtime scopes that only Kubernetes' CRI runtimes create, even without a kubepods parent.
_CRI_SCOPE = re.compile(rf"(?:^|/)(?:cri-containerd|crio)-(?P<id>{_HEX64})\.scope{_END}")
_PODMAN = re.compile(rf"(?:^|/)libpod-(?P<id>{_HEX64})(?:\.scope)?{_END}")
# Docker: /docker/<id>, docker-<id>.scope, or a bare <id> (custom --cgroup-parent).
_DOCKER = re.compile(rf"(?:^|/)(?:docker[-/])?(?P<id>{_HEX64})(?:\.scope)?{_END}")
_SLURM_V1 = re.compile(
    r"(?:^|/)slurm(?:_[^/]+)?/uid_(?P<uid>[0-9]{1,10})/job_(?P<job>[0-9]{1,12})"
    r"(?:/step_(?P<step>[0-9]{1,10}|batch|extern|interactive))?" + _END
)
_SLURM_V2 = re.compile(
    r"(?:^|/)(?:[^/]+_)?slurmstepd\.scope/job_(?P<job>[0-9]{1,12})"
    r"(?:/step_(?P<step>[0-9]{1,10}|batch|extern|interactive))?" + _END
)
_SESSION = re.compile(
    r"(?:^|/)user\.slice/user-(?P<uid>[0-9]{1,10})\.slice/session-(?P<id>[0-9a-z]{1,16})\.scope"
    + _END
)


def cgroup_paths(text: str) -> list[str]:
    """The paths of the complete, well-formed lines (a last line without newline is dropped).

    The kernel lists hierarchies by strictly decreasing id (the v2 line, id 0, last). A cgroup
    name may contain a newline (mkdir allows it, in a subtree delegated to a user), which would
    forge a line of its own; its id then breaks that order, and the whole file says nothing.
    """
    paths: list[str] = []
    last = None
    for line in text.split("\n")[:-1]:
        match = _LINE.match(line)
        if match is None:
            continue
        ident = int(match.group(1))
        if last is not None and ident >= last:
            return []
        last = ident
        paths.append(match.group(2))
    return paths


def _pod(path: str) -> Attribution | None:
    uid = _POD_UID.search(path)
    if uid is not None:
        pod_uid = uid.group("dash") or uid.group("under").replace("_", "-")
        below = _POD_CONTAINER.search(path, uid.end())
        return Attribution(POD, pod_uid, container_id=below.group("id") if below else None)
    scope = _CRI_SCOPE.search(path)
    if scope is not None:
        return Attribution(POD, scope.group("id"), container_id=scope.group("id"))
    return None


def _slurm(path: str) -> Attribution | None:
    match = _SLURM_V1.search(path)
    if match is not None:
        uid = int(match.group("uid"))
        return Attribution(SLURM, match.group("job"), step=match.group("step"), uid=uid)
    match = _SLURM_V2.search(path)
    if match is not None:
        return Attribution(SLURM, match.group("job"), step=match.group("step"))
    return None


def _simple(path: str, pattern: re.Pattern[str], kind: str) -> Attribution | None:
    # A kubepods path the pod finder could not read is of an unknown shape, not Docker's.
    match = pattern.search(path) if "kubepods" not in path else None
    return Attribution(kind, match.group("id")) if match else None


def _session(path: str) -> Attribution | None:
    match = _SESSION.search(path)
    if match is None:
        return None
    return Attribution(SESSION, match.group("id"), uid=int(match.group("uid")))


def _best(paths: list[str]) -> Attribution | None:
    for finder in (
        _pod,
        lambda p: _simple(p, _PODMAN, PODMAN),
        lambda p: _simple(p, _DOCKER, DOCKER),
        _slurm,
        _session,
    ):
        for path in paths:
            found = finder(path)
            if found is not None:
                return _finer_step(found, paths)
    return None


def _finer_step(found: Attribution, paths: list[str]) -> Attribution:
    # Slurm v1 may put the job level on one controller (freezer of slurmstepd) and the step on
    # another; prefer a line of the same job that names the step.
    if found.kind != SLURM or found.step is not None:
        return found
    for path in paths:
        other = _slurm(path)
        if other is not None and other.id == found.id and other.step is not None:
            return other
    return found


def classify_cgroup(text: str | None) -> Attribution:
    """What /proc/<pid>/cgroup text says the process belongs to; kind none when nothing."""
    paths = cgroup_paths(text or "")
    return _best(paths) or Attribution(NONE, "")


def classify_paths(paths: str) -> Attribution:
    """The probe's `a` line payload (tab-separated cgroup paths, already checked for order)."""
    parts = [p for p in paths.split("\t") if p.startswith("/")]
    text = "".join(f"{len(parts) - i}::{path}\n" for i, path in enumerate(parts))
    return classify_cgroup(text)
