"""The JSON of an attribution: what a process (or the process holding a port) belongs to."""

from __future__ import annotations

from typing import Any

from clustertop.model.attribution import Attribution


def attribution_json(found: Attribution | None) -> dict[str, Any] | None:
    """What a process belongs to (null: its cgroup was not read)."""
    if found is None:
        return None
    return {
        "kind": found.kind,
        "id": found.id,
        "name": found.name,
        "owner": found.owner,
        "via": found.via,
        "step": found.step,
        "uid": found.uid,
        "container_id": found.container_id,
        "gpus": list(found.gpus) if found.gpus is not None else None,
        "account": found.account,
        "namespace": found.namespace,
        "partition": found.partition,
    }
