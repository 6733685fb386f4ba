"""What amd-smi, rocm-smi and sysfs share: JSON after a banner, {value, unit} cells, GPU facts."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from clustertop.model import Gpu
from clustertop.model.amd import AMD, amd_gpu_uuid, normal_bus_id

# amd-smi computes its KB/MB/GB with 1024 (a 32 GiB R9700 prints "32624 MB", 56000 B prints
# "54.7 KB"), so its units are binary whatever their names.
_AMD_BYTES = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "KIB": 1024, "MIB": 1024**2}
_AMD_BYTES["GIB"] = 1024**3
_MISSING = frozenset({"", "N/A", "NA", "NONE", "UNKNOWN", "NOT SUPPORTED"})
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$")
_DIGITS = re.compile(r"(\d+)")


def json_document(text: str, tool: str) -> Any:
    """The JSON document in a tool's output, past any banner lines before it; ValueError else.

    amd-smi may print "WARNING: User is missing the following required groups: ..." (and Python
    warnings) before its JSON, on stdout or stderr, so the document starts at the first line
    that opens with `{` or `[`.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("{", "[")):
            try:
                document, _ = json.JSONDecoder().raw_decode("\n".join(lines[number:]).lstrip())
            except ValueError as exc:
                raise ValueError(f"{tool}: unreadable JSON output ({exc})") from None
            except RecursionError:  # nesting deeper than the decoder goes: not amd-smi's JSON
                raise ValueError(f"{tool}: unreadable JSON output (nested too deep)") from None
            return document
    said = first_words(text)
    raise ValueError(f"{tool}: no JSON in its output" + (f": {said}" if said else ""))


def first_words(text: str, limit: int = 200) -> str:
    """The first non-blank line of some output, cut to `limit` characters (for a message)."""
    for line in text.split("\n"):
        if line.strip():
            return line.strip()[:limit]
    return ""


def quantity(cell: Any) -> tuple[float | None, str]:
    """A cell as amd-smi or rocm-smi prints it -> (number or None, unit).

    `{"value": 10, "unit": "W"}`, a bare 10, "10", "10 W", "N/A" or `{"value": "N/A"}` all
    occur; booleans, NaN and anything else are no number.
    """
    unit = ""
    if isinstance(cell, dict):
        unit = str(cell.get("unit") or "")
        cell = cell.get("value")
    if isinstance(cell, bool) or cell is None:
        return None, unit
    if isinstance(cell, int | float):
        value = float(cell)
        return (value if math.isfinite(value) else None), unit
    if not isinstance(cell, str) or cell.strip().upper() in _MISSING:
        return None, unit
    match = _NUMBER.match(cell)
    if match is None:
        return None, unit
    return float(match.group(1)), unit or match.group(2)


def number_of(cell: Any) -> float | None:
    """Just the number of a cell (see quantity)."""
    return quantity(cell)[0]


def amd_bytes(cell: Any, default_unit: str = "B") -> int | None:
    """A memory cell in bytes (amd-smi's binary KB/MB/GB); None for N/A or an unknown unit."""
    value, unit = quantity(cell)
    scale = _AMD_BYTES.get((unit or default_unit).upper())
    if value is None or scale is None or value < 0:
        return None
    return round(value * scale)


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key where digits compare as numbers: card2 before card10."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(name))


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]... or None where a level is missing or not an object."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


@dataclass(frozen=True, slots=True)
class AmdGpuFacts:
    """What one reading says about one AMD GPU; None where it says nothing."""

    card: str | None = None
    """DRM card name (card0) where the reading names one."""
    tool_index: int | None = None
    """The tool's own GPU index (amd-smi's `gpu`, in PCI bus order)."""
    bus_id: str | None = None
    """Normalised PCI bus ID."""
    name: str | None = None
    """Product name."""
    util_percent: float | None = None
    """GFX activity, 0-100."""
    memory_used: int | None = None
    """VRAM bytes in use."""
    memory_total: int | None = None
    """VRAM bytes."""
    temperature_c: float | None = None
    """Edge (else junction) temperature."""
    power_w: float | None = None
    """Socket power draw."""
    power_limit_w: float | None = None
    """Power cap."""
    fan_percent: float | None = None
    """Fan speed, 0-100."""
    memory_util_percent: float | None = None
    """Memory controller (UMC) activity, 0-100."""
    ecc_uncorrected: int | None = None
    """Uncorrectable ECC errors."""
    error: str | None = None
    """Why this GPU could not be read."""


def percent(value: float | None) -> float | None:
    """A share in 0-100, None outside it (a wrapped counter or garbage is no reading)."""
    return value if value is not None and 0.0 <= value <= 100.0 else None


def merge_facts(
    primary: Sequence[AmdGpuFacts], secondary: Sequence[AmdGpuFacts]
) -> list[AmdGpuFacts]:
    """Each primary GPU filled in from the secondary reading of the same GPU (by bus ID, else by
    the tool's index); a secondary GPU the primary lacks is kept."""
    left = list(secondary)
    merged = []
    for facts in primary:
        other = _same_gpu(facts, left)
        if other is not None:
            left.remove(other)
        merged.append(facts if other is None else _fill(facts, other))
    return merged + left


def _same_gpu(facts: AmdGpuFacts, others: Sequence[AmdGpuFacts]) -> AmdGpuFacts | None:
    for other in others:
        if _same(facts, other):
            return other
    return None


def _same(facts: AmdGpuFacts, other: AmdGpuFacts) -> bool:
    if facts.bus_id and other.bus_id:
        return facts.bus_id == other.bus_id
    if facts.tool_index is not None and facts.tool_index == other.tool_index:
        return True
    return bool(facts.card) and facts.card == other.card


def _fill(facts: AmdGpuFacts, other: AmdGpuFacts) -> AmdGpuFacts:
    missing = {
        f.name: getattr(other, f.name)
        for f in fields(AmdGpuFacts)
        if getattr(facts, f.name) is None and getattr(other, f.name) is not None
    }
    return replace(facts, **missing) if missing else facts


def _order(facts: AmdGpuFacts) -> tuple[Any, ...]:
    # amd-smi and HIP number GPUs in PCI bus order; without bus IDs the tool's index, then
    # the card number (numerically: card10 after card9) keep that order.
    return (
        facts.bus_id is None,
        facts.bus_id or "",
        facts.tool_index if facts.tool_index is not None else math.inf,
        natural_key(facts.card or ""),
    )


def amd_gpus(readings: Iterable[AmdGpuFacts]) -> tuple[Gpu, ...]:
    """Gpu values numbered 0.. in PCI bus order, as HIP_VISIBLE_DEVICES counts them."""
    return tuple(_gpu(index, facts) for index, facts in enumerate(sorted(readings, key=_order)))


def _gpu(index: int, facts: AmdGpuFacts) -> Gpu:
    return Gpu(
        index=index,
        uuid=amd_gpu_uuid(facts.bus_id, facts.card or f"gpu{index}"),
        name=facts.name or "AMD GPU",
        util_percent=facts.util_percent,
        memory_used=facts.memory_used,
        memory_total=facts.memory_total,
        temperature_c=facts.temperature_c,
        power_w=facts.power_w,
        power_limit_w=facts.power_limit_w,
        fan_percent=facts.fan_percent,
        memory_util_percent=facts.memory_util_percent,
        bus_id=facts.bus_id,
        ecc_uncorrected=facts.ecc_uncorrected,
        error=facts.error,
        vendor=AMD,
    )


def bus_id_of(text: Any) -> str | None:
    """A normalised bus ID from a cell (strings only)."""
    return normal_bus_id(text) if isinstance(text, str) else None


def tool_output(text: str, returncode: int, command: str) -> str:
    """A tool's output, for its JSON; ValueError naming the failure when it exited non-zero
    without any JSON (amd-smi's missing-groups WARNING alone, a crash, not found)."""
    if returncode != 0 and "{" not in text and "[" not in text:
        said = first_words(text)
        raise ValueError(f"{command}: exit {returncode}" + (f": {said}" if said else ""))
    return text
