"""MIG instances of a partitioned NVIDIA GPU, and the instance a GPU process runs in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MigRef:
    """The MIG instance a process runs in: its GPU instance and compute instance, or its UUID."""

    gpu_instance_id: int | None
    """GI ID (None when only the UUID is known)."""
    compute_instance_id: int | None
    """CI ID within the GPU instance (None when not reported)."""
    uuid: str | None = None
    """MIG device UUID (MIG-...), when known."""

    @property
    def label(self) -> str:
        """'GI 2/CI 0', or the UUID when the IDs are unknown."""
        if self.gpu_instance_id is None:
            return self.uuid or "?"
        ci = "?" if self.compute_instance_id is None else str(self.compute_instance_id)
        return f"GI {self.gpu_instance_id}/CI {ci}"


@dataclass(frozen=True, slots=True)
class MigInstance:
    """One MIG device: a compute instance inside a GPU instance of one physical GPU.

    Memory belongs to the GPU instance: compute instances of one GI show the same figures.
    """

    device_index: int | None
    """MIG device index on its GPU ("MIG Dev" in nvidia-smi, "Device N" in `nvidia-smi -L`)."""
    gpu_instance_id: int | None
    """GI ID."""
    compute_instance_id: int | None
    """CI ID within the GI."""
    profile: str | None = None
    """Profile name such as 1g.10gb or 3g.40gb (from `nvidia-smi -L` or NVML)."""
    uuid: str | None = None
    """MIG device UUID (MIG-...), what CUDA_VISIBLE_DEVICES takes."""
    memory_used: int | None = None
    """Bytes of the GPU instance's memory in use."""
    memory_total: int | None = None
    """Bytes of memory of the GPU instance."""
    multiprocessor_count: int | None = None
    """Streaming multiprocessors of the compute instance."""
    placement: tuple[int, int] | None = None
    """(start slice, slice count) of the GPU instance on the GPU, when NVML says."""
    util_percent: float | None = None
    """Utilisation of the instance, 0-100 (None: nvidia-smi and NVML do not report it)."""
    error: str | None = None
    """Why fields of this instance could not be read ("Insufficient Permissions")."""

    @property
    def ref(self) -> MigRef:
        """The reference a process on this instance carries."""
        return MigRef(self.gpu_instance_id, self.compute_instance_id, self.uuid)

    @property
    def label(self) -> str:
        """'1g.10gb GI 3/CI 0' (profile first when known)."""
        ids = self.ref.label if self.gpu_instance_id is not None else f"dev {self.device_index}"
        return f"{self.profile} {ids}" if self.profile else ids

    def runs(self, ref: MigRef | None) -> bool:
        """True when a process with this reference runs on this instance."""
        if ref is None:
            return False
        if ref.uuid and self.uuid:
            return ref.uuid == self.uuid
        return (
            ref.gpu_instance_id is not None
            and ref.gpu_instance_id == self.gpu_instance_id
            and ref.compute_instance_id in (None, self.compute_instance_id)
        )
