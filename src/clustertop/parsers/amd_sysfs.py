"""The amdgpu driver's sysfs files (busy %, VRAM, hwmon temperature and power) to GPU facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clustertop.model import Gpu
from clustertop.parsers.amd_smi import AmdProcess
from clustertop.parsers.amd_values import AmdGpuFacts, bus_id_of, natural_key, percent

AMD_PCI_VENDOR = "0x1002"
"""PCI vendor ID of AMD/ATI (device/vendor)."""

SYSFS_FILES: Mapping[str, str] = {
    "vendor": "device/vendor",
    "busy": "device/gpu_busy_percent",
    "mem_busy": "device/mem_busy_percent",
    "vram_used": "device/mem_info_vram_used",
    "vram_total": "device/mem_info_vram_total",
    "name": "device/product_name",
}
"""Key -> file under /sys/class/drm/cardN, read every tick (name only where the board has it)."""

HWMON_FILES: Mapping[str, str] = {
    "temp": "temp1_input",
    "power": "power1_average",
    "power_input": "power1_input",
    "cap": "power1_cap",
    "pwm": "pwm1",
    "pwm_max": "pwm1_max",
}
"""Key -> file in the card's device/hwmon/hwmonN directory."""


def parse_sysfs_lines(text: str) -> dict[str, dict[str, str]]:
    """`CARD KEY VALUE` lines (what the probe prints) -> card -> key -> value."""
    cards: dict[str, dict[str, str]] = {}
    for line in text.split("\n"):
        words = line.split(" ", 2)
        if len(words) == 3 and words[0].startswith("card"):
            cards.setdefault(words[0], {})[words[1]] = words[2].strip()
    return cards


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _scaled(text: str | None, scale: float) -> float | None:
    value = _int(text)
    return None if value is None else value / scale


def _fan(values: Mapping[str, str]) -> float | None:
    pwm, top = _int(values.get("pwm")), _int(values.get("pwm_max")) or 255
    return None if pwm is None else percent(100.0 * pwm / top)


def _bytes(text: str | None) -> int | None:
    value = _int(text)
    return value if value is not None and value >= 0 else None


def sysfs_facts(cards: Mapping[str, Mapping[str, str]]) -> list[AmdGpuFacts]:
    """The AMD GPUs among the cards (vendor 0x1002), in card order (card2 before card10).

    hwmon reports millidegrees and microwatts; power1_average is the amdgpu average, newer
    boards (RDNA3, MI300) have only power1_input.
    """
    facts = []
    for card in sorted(cards, key=natural_key):
        values = cards[card]
        if values.get("vendor", AMD_PCI_VENDOR).lower() != AMD_PCI_VENDOR:
            continue
        power = _scaled(values.get("power"), 1e6)
        if power is None:
            power = _scaled(values.get("power_input"), 1e6)
        name = values.get("name", "").strip()
        facts.append(
            AmdGpuFacts(
                card=card,
                bus_id=bus_id_of(values.get("bus")),
                name=name or None,
                util_percent=percent(_scaled(values.get("busy"), 1.0)),
                memory_util_percent=percent(_scaled(values.get("mem_busy"), 1.0)),
                memory_used=_bytes(values.get("vram_used")),
                memory_total=_bytes(values.get("vram_total")),
                temperature_c=_scaled(values.get("temp"), 1000.0),
                power_w=power,
                power_limit_w=_scaled(values.get("cap"), 1e6),
                fan_percent=_fan(values),
                error=values.get("error") or None,
            )
        )
    return facts


@dataclass(frozen=True, slots=True)
class KfdProcess:
    """A process the amdgpu KFD driver lists with VRAM on one GPU (/sys/class/kfd/kfd/proc)."""

    pid: int
    """Host PID."""
    bus_id: str
    """Bus ID of the GPU."""
    vram_used: int
    """Bytes of that GPU's VRAM it holds (proc/PID/vram_GPUID)."""


def kfd_bus_id(location_id: str, domain: str) -> str | None:
    """A KFD topology node's PCI address (`location_id` = bus << 8 | devfn) as a bus ID."""
    try:
        location, dom = int(location_id), int(domain or "0")
    except ValueError:
        return None
    if not 0 <= location < 1 << 16 or dom < 0:
        return None
    devfn = location & 0xFF
    return f"{dom:04x}:{location >> 8:02x}:{devfn >> 3:02x}.{devfn & 7}"


def parse_kfd_lines(text: str) -> list[KfdProcess]:
    """`kfd gpu GPUID LOCATION_ID DOMAIN` (a topology node) and `kfd vram PID GPUID BYTES`
    lines -> each process's VRAM per GPU; unknown GPU IDs and unreadable numbers are left out."""
    nodes: dict[str, str] = {}
    usage: list[tuple[str, str, str]] = []
    for line in text.split("\n"):
        words = line.split(" ")
        if len(words) == 5 and words[:2] == ["kfd", "gpu"] and words[2] != "0":
            bus = kfd_bus_id(words[3], words[4])
            if bus is not None:
                nodes[words[2]] = bus
        elif len(words) == 5 and words[:2] == ["kfd", "vram"]:
            usage.append((words[2], words[3], words[4]))
    processes = []
    for pid, gpu_id, vram in usage:
        pid_number, vram_bytes = _int(pid), _int(vram)
        if gpu_id in nodes and pid_number and pid_number > 0 and vram_bytes is not None:
            processes.append(KfdProcess(pid_number, nodes[gpu_id], max(vram_bytes, 0)))
    return processes


def place_kfd(processes: Sequence[KfdProcess], gpus: Sequence[Gpu]) -> list[AmdProcess]:
    """KFD processes as amd-smi-like rows on the GPUs they use (by bus ID), indexed as `gpus`."""
    index_of = {gpu.bus_id: gpu.index for gpu in gpus if gpu.bus_id}
    return [
        AmdProcess(index_of[p.bus_id], p.pid, "", p.vram_used)
        for p in processes
        if p.bus_id in index_of
    ]
