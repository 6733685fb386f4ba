"""Parsers for `amd-smi static|metric|process --json` (ROCm 6.1 lists and 7.x gpu_data objects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clustertop.model import Gpu
from clustertop.parsers.amd_values import (
    AmdGpuFacts,
    amd_bytes,
    bus_id_of,
    dig,
    json_document,
    number_of,
    percent,
)

_POWER_KEYS = ("socket_power", "current_socket_power", "average_socket_power")
_LIMIT_KEYS = ("socket_power", "power_cap", "max_power")


@dataclass(frozen=True, slots=True)
class AmdProcess:
    """One process amd-smi lists on one GPU."""

    gpu_index: int
    """amd-smi's GPU index (PCI bus order)."""
    pid: int
    """Host PID."""
    name: str
    """Process name or executable path."""
    vram_used: int | None
    """VRAM bytes it holds (None when the tool does not say)."""


def gpu_entries(text: str, command: str) -> list[dict[str, Any]]:
    """The per-GPU objects of one amd-smi --json output; ValueError when there are none.

    ROCm 6.x prints a bare list, amd-smi >= 26 wraps static and metric in {"gpu_data": [...]}.
    """
    document = json_document(text, command)
    if isinstance(document, dict):
        document = document.get("gpu_data", [document] if "gpu" in document else None)
    if not isinstance(document, list):
        raise ValueError(f"{command}: JSON without a GPU list")
    entries = [e for e in document if isinstance(e, dict) and _index(e.get("gpu")) is not None]
    if document and not entries:
        raise ValueError(f"{command}: no GPU entries in its JSON")
    return entries


def _index(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _first(obj: Any, group: str, keys: Sequence[str]) -> float | None:
    for key in keys:
        value = number_of(dig(obj, group, key))
        if value is not None:
            return value
    return None


def _name(entry: dict[str, Any]) -> str | None:
    for path in (("asic", "market_name"), ("board", "product_name")):
        value = dig(entry, *path)
        if isinstance(value, str) and value.strip() and value.strip().upper() != "N/A":
            return value.strip()
    return None


def parse_static(text: str) -> list[AmdGpuFacts]:
    """`amd-smi static --json`: names, bus IDs, VRAM size and power caps."""
    facts = []
    for entry in gpu_entries(text, "amd-smi static"):
        facts.append(
            AmdGpuFacts(
                tool_index=_index(entry.get("gpu")),
                bus_id=bus_id_of(dig(entry, "bus", "bdf")),
                name=_name(entry),
                memory_total=amd_bytes(dig(entry, "vram", "size"), "MB"),
                power_limit_w=_first(entry, "limit", _LIMIT_KEYS),
            )
        )
    return facts


def parse_metric(text: str) -> list[AmdGpuFacts]:
    """`amd-smi metric --json`: activity, VRAM use, temperature, power, fan, ECC."""
    facts = []
    for entry in gpu_entries(text, "amd-smi metric"):
        temperature = number_of(dig(entry, "temperature", "edge"))
        if temperature is None:
            temperature = number_of(dig(entry, "temperature", "hotspot"))
        ecc = number_of(dig(entry, "ecc", "total_uncorrectable_count"))
        facts.append(
            AmdGpuFacts(
                tool_index=_index(entry.get("gpu")),
                bus_id=bus_id_of(dig(entry, "bus", "bdf")),
                util_percent=percent(number_of(dig(entry, "usage", "gfx_activity"))),
                memory_util_percent=percent(number_of(dig(entry, "usage", "umc_activity"))),
                memory_used=amd_bytes(dig(entry, "mem_usage", "used_vram"), "MB"),
                memory_total=amd_bytes(dig(entry, "mem_usage", "total_vram"), "MB"),
                temperature_c=temperature,
                power_w=_first(entry, "power", _POWER_KEYS),
                fan_percent=percent(number_of(dig(entry, "fan", "usage"))),
                ecc_uncorrected=int(ecc) if ecc is not None and ecc >= 0 else None,
            )
        )
    return facts


def parse_processes(text: str) -> list[AmdProcess]:
    """`amd-smi process --json`: a list of {"gpu", "process_list"}; ValueError when unreadable.

    With no processes amd-smi puts the string "No running processes detected" where the
    process object would be.
    """
    document = json_document(text, "amd-smi process")
    if isinstance(document, dict):
        document = document.get("gpu_data", [document])
    if not isinstance(document, list):
        raise ValueError("amd-smi process: JSON without a GPU list")
    processes = []
    for entry in document:
        gpu = _index(entry.get("gpu")) if isinstance(entry, dict) else None
        listed = entry.get("process_list") if isinstance(entry, dict) else None
        if gpu is None or not isinstance(listed, list):
            continue
        for item in listed:
            info = item.get("process_info", item) if isinstance(item, dict) else None
            process = _process(gpu, info)
            if process is not None:
                processes.append(process)
    return processes


def _process(gpu: int, info: Any) -> AmdProcess | None:
    if not isinstance(info, dict):
        return None
    pid = _index(info.get("pid"))
    if pid is None or pid == 0:
        return None
    # vram_mem (amd-smi >= 6.4) is the VRAM itself; mem_usage, all older versions give, is
    # what they call the process's memory (newer ones print 0 there for a process holding GBs).
    vram = amd_bytes(dig(info, "memory_usage", "vram_mem"))
    if vram is None and dig(info, "memory_usage", "vram_mem") is None:
        vram = amd_bytes(info.get("mem_usage"))
    name = info.get("name")
    return AmdProcess(gpu, pid, name if isinstance(name, str) else "", vram)


def place_processes(
    processes: Sequence[AmdProcess], gpus: Sequence[Gpu], static: Sequence[AmdGpuFacts]
) -> list[tuple[AmdProcess, Gpu]]:
    """Each process with the GPU it runs on: amd-smi's index through the bus ID its static
    reading gives, else the index itself (both count in PCI bus order); unplaced ones dropped."""
    bus_of = {f.tool_index: f.bus_id for f in static if f.tool_index is not None and f.bus_id}
    by_bus = {gpu.bus_id: gpu for gpu in gpus if gpu.bus_id}
    by_index = {gpu.index: gpu for gpu in gpus}
    placed = []
    for process in processes:
        bus = bus_of.get(process.gpu_index)
        gpu = by_bus.get(bus) if bus else by_index.get(process.gpu_index)
        if gpu is not None:
            placed.append((process, gpu))
    return placed
