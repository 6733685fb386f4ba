"""The `--once` table's MIG rows: instances under their GPU, a process's GPU:MIG device."""

from __future__ import annotations

from collections.abc import Sequence

from clustertop.analysis.mig import gpu_of, instance_of
from clustertop.model import Gpu, GpuProcess
from clustertop.util.units import NA, percent, used_of


def mig_table_rows(gpu: Gpu) -> list[list[object]]:
    """One row per MIG instance (and one for why they are missing), GPU table columns."""
    rows: list[list[object]] = []
    if gpu.mig_error:
        rows.append(["", f"  └ {gpu.mig_error}", "", "", "", "", ""])
    for instance in gpu.mig_instances:
        dev = NA if instance.device_index is None else instance.device_index
        rows.append(
            [
                f"{gpu.index}:{dev}",
                f"  └ {instance.label} {instance.uuid or ''}".rstrip(),
                "unknown" if instance.util_percent is None else percent(instance.util_percent),
                used_of(instance.memory_used, instance.memory_total),
                "",
                "",
                instance.error or "",
            ]
        )
    return rows


def mig_gpu_label(proc: GpuProcess, gpus: Sequence[Gpu]) -> object:
    """`2`, or `2:1` (GPU:MIG device, as nvidia-smi writes it) for a process in an instance."""
    gpu = gpu_of(proc, gpus) if proc.mig is not None else None
    instance = instance_of(proc, gpu) if gpu is not None else None
    if instance is None or instance.device_index is None:
        return proc.gpu_index
    return f"{proc.gpu_index}:{instance.device_index}"
