"""Parsers for nvidia-smi's CSV queries (--query-gpu, --query-compute-apps), header or not."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clustertop.model import Gpu
from clustertop.parsers.nvidia_errors import nvidia_smi_error
from clustertop.parsers.values import bracketed, integer, memory_bytes, number, present
from clustertop.util.strpool import share

__all__ = [
    "APPS_QUERY_FIELDS",
    "GPU_QUERY_FIELDS",
    "GpuApp",
    "apps_from_header_csv",
    "gpu_from_values",
    "gpus_from_header_csv",
    "nvidia_smi_error",
    "parse_apps_query",
    "parse_gpu_query",
    "parse_query_with_header",
]

GPU_QUERY_FIELDS: tuple[str, ...] = (
    "index",
    "uuid",
    "name",
    "utilization.gpu",
    "utilization.memory",
    "memory.used",
    "memory.total",
    "temperature.gpu",
    "power.draw",
    "power.limit",
    "fan.speed",
    "pci.bus_id",
    "ecc.errors.uncorrected.volatile.total",
    "mig.mode.current",
)
"""Fields the probe asks `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` for."""

APPS_QUERY_FIELDS: tuple[str, ...] = ("gpu_uuid", "pid", "used_memory", "process_name")
"""Fields for `--query-compute-apps` (nvidia-smi accepts `used_memory` or `used_gpu_memory`)."""

# nvidia-smi accepts several names for one field; headers always print the first spelling.
_GPU_ALIASES = {"gpu_name": "name", "gpu_uuid": "uuid", "gpu_bus_id": "pci.bus_id"}
_APP_ALIASES = {"used_memory": "used_gpu_memory", "name": "process_name", "uuid": "gpu_uuid"}
_UNIT_SUFFIX = re.compile(r"\s*\[[^\]]*\]\s*$")
# Bracketed values in these cells mean the GPU itself could not be read.
_GPU_FAILURE_CELLS = ("uuid", "name", "memory.total")
_NOT_FAILURES = frozenset({"N/A", "NOT SUPPORTED"})
# A header CSV is a --query-gpu output only if it has a GPU metric (not compute-apps/retired-pages).
_GPU_METRICS = frozenset({"index", "memory.total", "memory.used", "utilization.gpu", "power.draw"})


@dataclass(frozen=True, slots=True)
class GpuApp:
    """One process holding a GPU context, as nvidia-smi lists it."""

    gpu_uuid: str
    """UUID of the (physical) GPU the process runs on."""
    pid: int
    """PID in the namespace nvidia-smi ran in (the host's, for the probe)."""
    memory_used: int | None
    """Bytes of GPU memory it holds (None under Windows WDDM or when hidden)."""
    process_name: str
    """Executable as nvidia-smi prints it (may be cut with '...'; empty when unknown)."""
    process_type: str | None = None
    """C (compute), G (graphics), C+G or M+C from `-q -x`; None from --query-compute-apps."""
    gpu_instance_id: int | None = None
    """MIG GPU instance it runs in (`-q -x`, or a gpu_instance_id column); None when whole GPU."""
    compute_instance_id: int | None = None
    """MIG compute instance within that GPU instance."""


def _lines(text: str) -> list[str]:
    """Non-blank lines; only '\\n' splits, so odd characters in process names stay put."""
    return [line.rstrip("\r") for line in text.split("\n") if line.strip()]


def _cells(line: str, width: int, merge_at: int | None) -> list[str] | None:
    """Split one unquoted nvidia-smi CSV row; extra commas belong to the cell at `merge_at`."""
    # nvidia-smi never quotes, so the csv module's quote handling would misread a process
    # name that starts with '"'; a plain split on ',' is the faithful reading.
    cells = line.split(",")
    if len(cells) > width and merge_at is not None:
        end = merge_at + len(cells) - width + 1
        cells[merge_at:end] = [",".join(cells[merge_at:end])]
    if len(cells) != width:
        return None
    return [cell.strip() for cell in cells]


def _first_number(values: Mapping[str, str], *keys: str) -> float | None:
    for key in keys:
        value = number(values.get(key))
        if value is not None:
            return value
    return None


def _gpu_failure(values: Mapping[str, str]) -> str | None:
    for key in _GPU_FAILURE_CELLS:
        text = bracketed(values.get(key))
        if text and text.upper() not in _NOT_FAILURES:
            return text
    return None


def _shared(text: str | None) -> str | None:
    return None if text is None else share(text)


def gpu_from_values(values: Mapping[str, str], position: int) -> Gpu:
    """A Gpu from one row keyed by canonical field name; ValueError if it is not a GPU row."""
    if "index" in values:
        index = integer(values["index"])
        if index is None:
            raise ValueError(f"not a GPU index: {values['index']!r}")
    else:
        index = position  # headerless captures without an index column: file order
    uuid = present(values.get("uuid")) or ""
    # A fleet's GPUs share model names, bus ids and modes: one copy each (util/strpool.py).
    name = share(present(values.get("name")) or "")
    error = _gpu_failure(values)
    if "index" not in values and not (uuid or name or error):
        raise ValueError("row names no GPU")
    return Gpu(
        index=index,
        uuid=uuid,
        name=name,
        util_percent=number(values.get("utilization.gpu")),
        memory_used=memory_bytes(values.get("memory.used")),
        memory_total=memory_bytes(values.get("memory.total")),
        temperature_c=number(values.get("temperature.gpu")),
        power_w=_first_number(values, "power.draw", "power.draw.average", "power.draw.instant"),
        power_limit_w=_first_number(values, "power.limit", "enforced.power.limit"),
        fan_percent=number(values.get("fan.speed")),
        memory_util_percent=number(values.get("utilization.memory")),
        bus_id=_shared(present(values.get("pci.bus_id"))),
        ecc_uncorrected=integer(values.get("ecc.errors.uncorrected.volatile.total")),
        mig_mode=_shared(present(values.get("mig.mode.current"))),
        error=error,
    )


def _app_from_values(values: Mapping[str, str]) -> GpuApp | None:
    pid = integer(values.get("pid"))
    if pid is None:
        return None
    return GpuApp(
        gpu_uuid=present(values.get("gpu_uuid")) or "",
        pid=pid,
        memory_used=memory_bytes(values.get("used_gpu_memory")),
        process_name=share(present(values.get("process_name")) or ""),
        gpu_instance_id=integer(values.get("gpu_instance_id")),
        compute_instance_id=integer(values.get("compute_instance_id")),
    )


def parse_gpu_query(
    text: str, fields: Sequence[str] = GPU_QUERY_FIELDS
) -> tuple[list[Gpu], list[str]]:
    """GPUs from `--query-gpu` CSV without header (units optional), plus lines that were not rows.

    The second list holds what nvidia-smi printed instead of a row ("Unable to determine the
    device handle for GPU 0000:3B:00.0: Unknown Error"), truncated rows and garbage, stripped.
    """
    keys = [_GPU_ALIASES.get(field, field) for field in fields]
    gpus: list[Gpu] = []
    errors: list[str] = []
    for line in _lines(text):
        cells = _cells(line, len(keys), merge_at=None)
        try:
            if cells is None:
                raise ValueError("wrong number of cells")
            gpus.append(gpu_from_values(dict(zip(keys, cells, strict=True)), position=len(gpus)))
        except ValueError:
            errors.append(line.strip())
    return gpus, errors


def parse_apps_query(text: str, fields: Sequence[str] = APPS_QUERY_FIELDS) -> list[GpuApp]:
    """Processes from `--query-compute-apps` CSV without header; other lines are skipped."""
    keys = [_APP_ALIASES.get(field, field) for field in fields]
    merge_at = keys.index("process_name") if "process_name" in keys else None
    apps: list[GpuApp] = []
    for line in _lines(text):
        cells = _cells(line, len(keys), merge_at)
        app = _app_from_values(dict(zip(keys, cells, strict=True))) if cells is not None else None
        if app is not None:
            apps.append(app)
    return apps


def parse_query_with_header(text: str) -> list[dict[str, str]]:
    """Rows of a `--format=csv` output that has a header; keys lose their ' [unit]' suffix.

    Rows with the wrong number of cells (truncated output) are skipped; surplus commas are
    kept inside `process_name`, the one free-text column.
    """
    lines = _lines(text)
    if not lines:
        return []
    keys = [_UNIT_SUFFIX.sub("", key).strip() for key in lines[0].split(",")]
    merge_at = keys.index("process_name") if "process_name" in keys else None
    rows: list[dict[str, str]] = []
    for line in lines[1:]:
        cells = _cells(line, len(keys), merge_at)
        if cells is not None:
            rows.append(dict(zip(keys, cells, strict=True)))
    return rows


def gpus_from_header_csv(text: str) -> list[Gpu]:
    """GPUs from a `--query-gpu` CSV with header (any field list, units or nounits)."""
    gpus: list[Gpu] = []
    for row in parse_query_with_header(text):
        if not _GPU_METRICS & row.keys():
            return []
        values = {_GPU_ALIASES.get(key, key): value for key, value in row.items()}
        try:
            gpus.append(gpu_from_values(values, position=len(gpus)))
        except ValueError:
            continue
    return gpus


def apps_from_header_csv(text: str) -> list[GpuApp]:
    """Processes from a `--query-compute-apps` CSV with header (a header alone: none)."""
    apps: list[GpuApp] = []
    for row in parse_query_with_header(text):
        app = _app_from_values({_APP_ALIASES.get(key, key): value for key, value in row.items()})
        if app is not None:
            apps.append(app)
    return apps
