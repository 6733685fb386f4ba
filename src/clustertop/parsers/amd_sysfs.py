"""The amdgpu driver's sysfs files (busy %, VRAM, hwmon temperature and power) to GPU facts."""

from __future__ import annotations

from collections.abc import Mapping

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
