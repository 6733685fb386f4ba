"""Parser for `nvidia-smi -q -x` XML (drivers 418-595, Linux and Windows, MIG), no DTD loading."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from clustertop.model import Gpu
from clustertop.parsers.nvidia_mig import mig_devices_from_xml
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.parsers.values import integer, memory_bytes, number, present

# The input comes from a host: an internal DTD subset could declare entities that expand
# exponentially. nvidia-smi never writes one (only an external SYSTEM id, which ElementTree
# does not fetch), so refusing them costs nothing.
_UNSAFE_DTD = re.compile(r"<!ENTITY|<!DOCTYPE[^>]*\[", re.IGNORECASE)
_FAILURE_WORDS = frozenset({"UNKNOWN ERROR", "GPU IS LOST", "GPU REQUIRES RESET"})

# Power moved between DTD versions: power_readings (<= v11), gpu_power_readings (v12),
# then average/instant draws (v13). The first readable path wins.
_POWER_DRAW = (
    "power_readings/power_draw",
    "gpu_power_readings/power_draw",
    "gpu_power_readings/average_power_draw",
    "gpu_power_readings/instant_power_draw",
)
_POWER_LIMIT = (
    "power_readings/power_limit",
    "gpu_power_readings/current_power_limit",
    "power_readings/enforced_power_limit",
    "gpu_power_readings/enforced_power_limit",
)


def _text(element: ET.Element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else (found.text or "").strip()


def _first_number(element: ET.Element, paths: tuple[str, ...]) -> float | None:
    for path in paths:
        value = number(_text(element, path))
        if value is not None:
            return value
    return None


def _ecc_uncorrected(gpu: ET.Element) -> int | None:
    """Volatile uncorrected ECC errors: double_bit/total (old DTDs) or the *_uncorrectable* sum."""
    volatile = gpu.find("ecc_errors/volatile")
    if volatile is None:
        return None
    if volatile.find("double_bit") is not None:
        return integer(_text(volatile, "double_bit/total"))
    counts = [integer(child.text) for child in volatile if "uncorrectable" in child.tag]
    known = [count for count in counts if count is not None]
    return sum(known) if known else None


def _failure(gpu: ET.Element) -> str | None:
    for path in ("product_name", "uuid", "fb_memory_usage/total"):
        text = _text(gpu, path) or ""
        if text.upper() in _FAILURE_WORDS:
            return text
    return None


def _gpu(gpu: ET.Element, index: int) -> Gpu:
    instances, mig_error = mig_devices_from_xml(gpu)
    return Gpu(
        index=index,
        uuid=present(_text(gpu, "uuid")) or "",
        name=present(_text(gpu, "product_name")) or "",
        util_percent=number(_text(gpu, "utilization/gpu_util")),
        memory_used=memory_bytes(_text(gpu, "fb_memory_usage/used")),
        memory_total=memory_bytes(_text(gpu, "fb_memory_usage/total")),
        temperature_c=number(_text(gpu, "temperature/gpu_temp")),
        power_w=_first_number(gpu, _POWER_DRAW),
        power_limit_w=_first_number(gpu, _POWER_LIMIT),
        fan_percent=number(_text(gpu, "fan_speed")),
        memory_util_percent=number(_text(gpu, "utilization/memory_util")),
        bus_id=present(_text(gpu, "pci/pci_bus_id")) or present(gpu.get("id")),
        ecc_uncorrected=_ecc_uncorrected(gpu),
        mig_mode=present(_text(gpu, "mig_mode/current_mig")),
        error=_failure(gpu),
        mig_instances=instances,
        mig_error=mig_error,
    )


def _apps(gpu: ET.Element, gpu_uuid: str) -> list[GpuApp]:
    apps: list[GpuApp] = []
    for info in gpu.findall("processes/process_info"):
        pid = integer(_text(info, "pid"))
        if pid is None:
            continue
        apps.append(
            GpuApp(
                gpu_uuid=gpu_uuid,
                pid=pid,
                memory_used=memory_bytes(_text(info, "used_memory")),
                process_name=present(_text(info, "process_name")) or "",
                process_type=present(_text(info, "type")),
                gpu_instance_id=integer(_text(info, "gpu_instance_id")),
                compute_instance_id=integer(_text(info, "compute_instance_id")),
            )
        )
    return apps


def parse_nvidia_smi_xml(text: str) -> tuple[list[Gpu], list[GpuApp]]:
    """GPUs (indexed in document order, as nvidia-smi enumerates them) and all their processes.

    Raises ValueError for malformed or truncated XML and for documents declaring entities.
    Processes of every type are returned (graphics ones too), with their MIG GI/CI IDs; a GPU's
    `<mig_devices>` become its mig_instances (profiles and MIG UUIDs come from `nvidia-smi -L`).
    """
    if _UNSAFE_DTD.search(text):
        raise ValueError("refusing nvidia-smi XML that declares entities or an internal DTD")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ValueError(f"malformed nvidia-smi XML: {exc}") from None
    if root.tag != "nvidia_smi_log":
        raise ValueError(f"not nvidia-smi -q -x output (root element <{root.tag}>)")
    gpus: list[Gpu] = []
    apps: list[GpuApp] = []
    for index, element in enumerate(root.findall("gpu")):
        gpu = _gpu(element, index)
        gpus.append(gpu)
        apps.extend(_apps(element, gpu.uuid))
    return gpus, apps
