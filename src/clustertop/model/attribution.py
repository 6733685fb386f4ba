"""What a process belongs to (Slurm job, container, pod, session) and the one owner rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from clustertop.model.owners import DEFAULT_RULE, OwnerRule, owner_of

SLURM = "slurm"
"""A Slurm job step (id: the job id)."""
PODMAN = "podman"
"""A podman container (id: the 64-hex container id)."""
POD = "pod"
"""A Kubernetes pod's container (id: the pod UID, else the container id)."""
DOCKER = "docker"
"""A Docker container (id: the 64-hex container id)."""
SESSION = "session"
"""A systemd login session (id: the session number)."""
NONE = "none"
"""Read, but none of the above (id: empty)."""

KINDS = (SLURM, PODMAN, POD, DOCKER, SESSION, NONE)
"""Every kind, in the order the classifier tries them is documented in parsers/cgroup.py."""

VIA_JOB_USER = "job-user"
"""Owner is the Slurm job's user (SLURM_JOB_USER, scontrol, or the uid in the job's cgroup)."""
VIA_LABEL = "label"
"""Owner is a container label (`owner` by default, see OwnerRule.labels)."""
VIA_NAME = "name"
"""Owner is the leading part of the container name (OwnerRule.name_pattern)."""
VIA_ROOTLESS = "rootless-user"
"""Owner is the Unix user running a rootless podman container."""
VIA_NAMESPACE = "namespace"
"""Owner is the Kubernetes namespace of the pod."""
VIA_POD_UID = "pod-uid"
"""Nothing better is readable: the pod's UID stands for its owner."""
VIA_UNIX_USER = "unix-user"
"""Owner is the Unix user of the process."""


@dataclass(frozen=True, slots=True)
class Attribution:
    """What a process belongs to, and who owns it by which rule."""

    kind: str
    """One of KINDS."""
    id: str
    """Job id, container id, pod UID or session number ("" for kind none)."""
    name: str | None = None
    """Readable name: job name, container name, pod name (or UID); None when unknown."""
    owner: str | None = None
    """The person, chosen by the owner rule."""
    via: str | None = None
    """Which rule chose the owner (one of the VIA_* values)."""
    step: str | None = None
    """Slurm step (0, 1, batch, extern, interactive) when the cgroup names one."""
    uid: int | None = None
    """Unix uid the cgroup path names (Slurm v1 uid_<n>, user-<n>.slice)."""
    container_id: str | None = None
    """The 64-hex container id of a pod's container."""
    gpus: tuple[int, ...] | None = None
    """Physical GPU indices of a Slurm job (SLURM_JOB_GPUS or GRES IDX), when known."""
    account: str | None = None
    """Slurm account, when readable."""
    namespace: str | None = None
    """Kubernetes namespace, when readable."""
    partition: str | None = None
    """Slurm partition, when readable."""


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known beyond the cgroup: the inputs of the owner rule."""

    unix_user: str | None = None
    """Unix user of the process."""
    labels: Mapping[str, str] | None = None
    """Labels of the container (docker or podman) the process runs in."""
    container_name: str | None = None
    """Name of that container."""
    job_user: str | None = None
    """The Slurm job's user (SLURM_JOB_USER or scontrol)."""
    job_name: str | None = None
    """The Slurm job's name."""
    job_account: str | None = None
    """The Slurm job's account."""
    job_gpus: tuple[int, ...] | None = None
    """Physical GPU indices of the job."""
    pod_name: str | None = None
    """Kubernetes pod name."""
    pod_namespace: str | None = None
    """Kubernetes namespace."""


def _container_owner(facts: Facts, rule: OwnerRule) -> tuple[str | None, str]:
    for label in rule.labels:
        if (facts.labels or {}).get(label, "").strip():
            return owner_of(labels=facts.labels, rule=rule), VIA_LABEL
    named = owner_of(container_name=facts.container_name, rule=rule, unix_user=None)
    if named:
        return named, VIA_NAME
    return None, VIA_UNIX_USER


def _slurm(base: Attribution, facts: Facts) -> Attribution:
    # Without a uid in the cgroup (v2) the job's user came from the job's own environment or
    # scontrol: it must be the process's user too, else the process's user is the answer.
    trusted = base.uid is not None or not facts.unix_user or facts.job_user == facts.unix_user
    if facts.job_user and trusted:
        owner: str | None = facts.job_user
        via = VIA_JOB_USER
    else:
        owner, via = facts.unix_user, VIA_UNIX_USER
    return replace(
        base,
        name=facts.job_name or base.name,
        owner=owner,
        via=via if owner else None,
        gpus=facts.job_gpus if facts.job_gpus is not None else base.gpus,
        account=facts.job_account or base.account,
    )


def _podman(base: Attribution, facts: Facts, rule: OwnerRule) -> Attribution:
    owner, via = _container_owner(facts, rule)
    if owner is None and facts.unix_user and facts.unix_user != "root":
        owner, via = facts.unix_user, VIA_ROOTLESS
    elif owner is None and rule.unix_user_fallback:
        owner, via = facts.unix_user, VIA_UNIX_USER
    return replace(base, name=facts.container_name or base.name, owner=owner, via=_via(owner, via))


def _pod(base: Attribution, facts: Facts, rule: OwnerRule) -> Attribution:
    name = facts.pod_name or base.name or base.id
    for label in rule.labels:
        if (facts.labels or {}).get(label, "").strip():
            owner = owner_of(labels=facts.labels, rule=rule)
            return replace(base, name=name, owner=owner, via=VIA_LABEL)
    if facts.pod_namespace:
        return replace(
            base, name=name, owner=facts.pod_namespace, via=VIA_NAMESPACE,
            namespace=facts.pod_namespace,
        )  # fmt: skip
    return replace(base, name=name, owner=base.id or None, via=VIA_POD_UID if base.id else None)


def _via(owner: str | None, via: str) -> str | None:
    return via if owner else None


def resolve(base: Attribution, facts: Facts, rule: OwnerRule = DEFAULT_RULE) -> Attribution:
    """The owner rule: first match wins, and `via` records which rule it was.

    Slurm job -> the job's user; podman -> label > name prefix > rootless user; pod -> label >
    namespace > pod UID; docker -> label > name prefix > Unix user (as before); session and
    none -> the Unix user.
    """
    if base.kind == SLURM:
        return _slurm(base, facts)
    if base.kind == PODMAN:
        return _podman(base, facts, rule)
    if base.kind == POD:
        return _pod(base, facts, rule)
    if base.kind == DOCKER:
        owner, via = _container_owner(facts, rule)
        if owner is None and rule.unix_user_fallback:
            owner = facts.unix_user
        name = facts.container_name or base.name
        return replace(base, name=name, owner=owner, via=_via(owner, via))
    owner = facts.unix_user if rule.unix_user_fallback else None
    return replace(base, owner=owner, via=_via(owner, VIA_UNIX_USER))
