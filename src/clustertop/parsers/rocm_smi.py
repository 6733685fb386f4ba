"""Parser for `rocm-smi --json`: string values keyed by card, key names that vary by release."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from clustertop.parsers.amd_values import (
    AmdGpuFacts,
    amd_bytes,
    bus_id_of,
    json_document,
    natural_key,
    number_of,
    percent,
)

ROCM_SMI_ARGS = (
    "--showproductname",
    "--showbus",
    "--showuse",
    "--showmemuse",
    "--showmeminfo",
    "vram",
    "--showtemp",
    "--showpower",
    "--showmaxpower",
    "--json",
)
"""What clustertop asks rocm-smi for (one call)."""

_CARD = re.compile(r"^card\d+$")
# Each list: the spellings of one value across ROCm releases, preferred first.
_NAME = ("Card Series", "Card series", "Device Name")
_UTIL = ("GPU use (%)",)
_MEM_UTIL = ("GPU Memory Read/Write Activity (%)", "GPU memory use (%)")
_USED = ("VRAM Total Used Memory (B)",)
_TOTAL = ("VRAM Total Memory (B)",)
_TEMP = (
    "Temperature (Sensor edge) (C)",
    "Temperature (Sensor junction) (C)",
    "Temperature (Sensor memory) (C)",
)
_POWER = (
    "Average Graphics Package Power (W)",
    "Current Socket Graphics Package Power (W)",
    "Current Socket Power (W)",
    "Average Socket Power (W)",
)
_LIMIT = ("Max Graphics Package Power (W)", "Max Socket Power (W)")
_FAN = ("Fan speed (%)",)
_BUS = ("PCI Bus",)


def _first(card: Mapping[str, Any], keys: Sequence[str]) -> float | None:
    for key in keys:
        value = number_of(card.get(key))
        if value is not None:
            return value
    return None


def _text(card: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    for key in keys:
        value = card.get(key)
        if isinstance(value, str) and value.strip() and value.strip().upper() != "N/A":
            return value.strip()
    return None


def _bytes(card: Mapping[str, Any], keys: Sequence[str]) -> int | None:
    for key in keys:
        value = amd_bytes(card.get(key))
        if value is not None:
            return value
    return None


def parse_rocm_smi(text: str) -> list[AmdGpuFacts]:
    """Every `cardN` object of one `rocm-smi --json` output, in card order (card2 before
    card10); the `system` object and unknown keys (clock level dumps) are passed over."""
    document = json_document(text, "rocm-smi")
    if not isinstance(document, dict):
        raise ValueError("rocm-smi: JSON is not an object of cards")
    cards = sorted((k for k in document if _CARD.match(k)), key=natural_key)
    facts = []
    for name in cards:
        card = document[name]
        if isinstance(card, dict):
            facts.append(_facts(name, card))
    return facts


def _facts(name: str, card: Mapping[str, Any]) -> AmdGpuFacts:
    return AmdGpuFacts(
        card=name,
        bus_id=bus_id_of(_text(card, _BUS)),
        name=_text(card, _NAME),
        util_percent=percent(_first(card, _UTIL)),
        memory_util_percent=percent(_first(card, _MEM_UTIL)),
        memory_used=_bytes(card, _USED),
        memory_total=_bytes(card, _TOTAL),
        temperature_c=_first(card, _TEMP),
        power_w=_first(card, _POWER),
        power_limit_w=_first(card, _LIMIT),
        fan_percent=percent(_first(card, _FAN)),
    )
