"""Ready-made specs for the nvidia-smi stand-in (see fake_gpu_state for the format)."""

from __future__ import annotations

import hashlib
from typing import Any

H200 = "h200-load-allfields-drv590.csv"
L40S = "l40s-idle-allfields-drv595.csv"
RTX_4080 = "rtx-4080-super-load-allfields-drv595.csv"
H100_MIG = "h100-mig-idle-allfields-drv590.csv"
RTX_2080_DRV465 = "rtx-2080-super-ubuntu2004-drv465.csv"
"""Template files in fixtures/real/nvidia-smi-csv (each one real GPU's full --query-gpu row)."""


def gpu_uuid(host: str, index: int) -> str:
    """A stable, UUID-shaped GPU id unique to (host, index)."""
    digest = hashlib.sha256(f"{host}/{index}".encode()).hexdigest()
    return f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def gpu(host: str, index: int, template: str = H200, **overrides: str) -> dict[str, str]:
    """One GPU entry: unique UUID and bus, idle utilisation, memory.used from its processes."""
    bus = 0x18 + 0x10 * index
    entry = {
        "template": template,
        "uuid": gpu_uuid(host, index),
        "pci.bus_id": f"00000000:{bus:02X}:00.0",
        "pci.bus": f"0x{bus:02X}",
        "utilization.gpu": "0",
        "memory.used": "auto",
    }
    entry.update(overrides)
    return entry


def spec(
    gpus: list[dict[str, str]],
    processes: list[dict[str, Any]] | None = None,
    mode: str = "ok",
    **extra: Any,
) -> dict[str, Any]:
    """A whole spec from GPU entries and process entries."""
    return {"mode": mode, "gpus": gpus, "processes": list(processes or []), **extra}


def default_spec(host: str) -> dict[str, Any]:
    """What each default fleet host starts with: different real GPUs, no processes."""
    if host == "h1":
        gpus = [
            gpu(host, 0, H200, **{"temperature.gpu": "41"}),
            gpu(host, 1, H200, **{"temperature.gpu": "44"}),
        ]
    elif host == "h2":
        gpus = [gpu(host, 0, L40S, **{"temperature.gpu": "38"})]
    elif host == "h3":
        gpus = [gpu(host, 0, RTX_4080, **{"temperature.gpu": "50"})]
    else:
        gpus = [gpu(host, 0, H200)]
    return spec(gpus)
