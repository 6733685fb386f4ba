"""What one snapshot says about each container's GPU idleness: the evidence the stale rule uses."""

from __future__ import annotations

from enum import Enum

from clustertop.analysis.mig import UnitKey, has_mig, host_units, unit_key_of
from clustertop.model import Container, HostSnapshot, Section
from clustertop.model.amd import container_gpu_map
from clustertop.model.engines import DOCKER_ENGINE, PODMAN_ENGINE, container_id_of, engine_of

EvidenceKey = str | UnitKey
"""A whole GPU's UUID, or (GPU index, GI, CI) of a MIG instance."""


class Observation(Enum):
    """One snapshot's verdict on one container."""

    IDLE = "idle"
    """Running, holding GPU memory, every GPU it uses at or under the idle threshold."""
    ACTIVE = "active"
    """Not an idle GPU holder now (busy GPU, no GPU memory, not running): ends an idle run."""
    UNKNOWN = "unknown"
    """Cannot tell (utilisation N/A, GPU reading failed or stale): neither ends nor extends."""


Verdicts = dict[str, tuple[Observation, float | None]]
"""Container ID -> (observation, started_at) for every container in one snapshot."""


def readable_engines(snap: HostSnapshot) -> frozenset[str]:
    """The engines whose containers the snapshot lists freshly and completely.

    Docker's when docker read without error, podman's when podman did (or the host has none).
    Otherwise (that engine failed, or the section's data is older than a tick) the snapshot says
    nothing about that engine's containers: an absent one is not known to be gone.
    """
    if not snap.is_up or Section.DOCKER in snap.stale:
        return frozenset()
    found = {DOCKER_ENGINE} if snap.docker_error is None else set()
    if snap.podman_error is None:
        found.add(PODMAN_ENGINE)
    return frozenset(found)


def containers_readable(snap: HostSnapshot) -> bool:
    """True when the snapshot lists some engine's containers freshly (see readable_engines)."""
    return bool(readable_engines(snap))


class GpuEvidence:
    """What one up snapshot tells about its GPUs, gathered once for all of its containers."""

    __slots__ = ("known", "process_gpus", "process_indices", "requested", "util_of")

    def __init__(self, snap: HostSnapshot) -> None:
        # A stale GPU section repeats old numbers and an empty one has none: neither proves
        # idleness.
        self.known = bool(snap.gpus) and Section.GPU not in snap.stale
        """True when the GPU list is a fresh reading."""
        self.util_of: dict[EvidenceKey, float | None] = {
            gpu.uuid: None if gpu.error else gpu.util_percent for gpu in snap.gpus
        }
        """Unit -> utilisation (None when unknown or the GPU has an error): GPU UUID, and
        (index, GI, CI) of each MIG instance (the stale rule judges a MIG job by its instance)."""
        mig = has_mig(snap.gpus)
        if mig:
            self.util_of.update(
                (unit.key, None if unit.error else unit.util_percent)
                for unit in host_units(snap)
                if unit.instance is not None
            )
        self.requested = {i: gpu.uuid for i, gpu in container_gpu_map(snap.gpus).items()}
        """Index in a container's GPU list -> UUID (NVIDIA's only on a host mixing vendors)."""
        self.process_gpus: dict[str, set[EvidenceKey]] = {}
        """Container ID -> the units its processes run on (GPU UUID, or a MIG instance)."""
        self.process_indices: dict[str, set[int]] = {}
        """Container ID -> their GPU indices (which its GPU list also holds)."""
        uuid_of = {gpu.index: gpu.uuid for gpu in snap.gpus}
        for proc in snap.gpu_processes:
            owner_id = container_id_of(proc)
            if owner_id is not None:
                unit = unit_key_of(proc, snap.gpus) if mig else None
                key: EvidenceKey = (
                    unit
                    if isinstance(unit, tuple)
                    else proc.gpu_uuid or uuid_of.get(proc.gpu_index, "")
                )
                self.process_gpus.setdefault(owner_id, set()).add(key)
                self.process_indices.setdefault(owner_id, set()).add(proc.gpu_index)
        for ctr in snap.containers if mig else ():
            # Instances a source names without processes (dcgm-exporter's pod labels): the
            # container is judged by those, as if its processes ran there.
            for index, ref in ctr.mig:
                held = (index, ref.gpu_instance_id, ref.compute_instance_id)
                self.process_gpus.setdefault(ctr.id, set()).add(held)
                self.process_indices.setdefault(ctr.id, set()).add(index)

    def holds_memory(self, ctr: Container) -> bool:
        """True when a GPU process of the container runs, or it holds GPU memory."""
        return ctr.id in self.process_gpus or bool(ctr.gpu_memory_used)

    def verdict(self, ctr: Container, util_percent: float) -> Observation:
        """The verdict on one container of the snapshot."""
        if ctr.state != "running":
            return Observation.ACTIVE
        mine = self.process_gpus.get(ctr.id)
        if mine is None and not ctr.gpu_memory_used:
            return Observation.ACTIVE if self.known else Observation.UNKNOWN
        # The GPUs its processes run on are judged by those (by UUID, a MIG GPU by the instance
        # they run in: the whole GPU's utilisation, N/A under MIG, says nothing about it).
        own = self.process_indices.get(ctr.id, set())
        used = {self.requested.get(i, "") for i in ctr.gpus if i not in own} | (mine or set())
        unknown = not self.known or not used
        for key in used:
            util = self.util_of.get(key)
            if util is None:
                unknown = True
            elif util > util_percent:
                return Observation.ACTIVE  # evidence of work counts even from a stale reading
        return Observation.UNKNOWN if unknown else Observation.IDLE


def observe(snap: HostSnapshot, util_percent: float) -> Verdicts | None:
    """The verdict on every container of an up snapshot; None when its containers are unreadable.

    O(GPUs + GPU processes + containers).
    """
    readable = readable_engines(snap)
    if not readable:
        return None
    evidence = GpuEvidence(snap)
    # A container of an engine that could not be read is listed from before: it says nothing.
    return {
        ctr.id: (
            evidence.verdict(ctr, util_percent)
            if engine_of(ctr) in readable
            else Observation.UNKNOWN,
            ctr.started_at,
        )
        for ctr in snap.containers
    }
