"""The plain `nvidia-smi` tables: GPUs, the "MIG devices:" table and the processes' GI/CI.

Read where that is all a host gives (`-q -x` refused or broken). The table names no UUID:
GPUs and MIG devices are numbered as nvidia-smi numbers them (GPU index, MIG Dev), which
`nvidia-smi -L` maps to UUIDs and profiles. Layouts: 79 columns (drivers up to 525) and 89
(530 on); cells that read N/A or [Insufficient Permissions] are unknown, never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from clustertop.model import MIB, Gpu
from clustertop.model.mig import MigInstance
from clustertop.parsers.nvidia_smi import GpuApp

# `|   0  NVIDIA H100 80GB HBM3          On  |   00000000:00:09.0 Off |                   On |`
_GPU_ROW = re.compile(
    r"^\|\s+(\d+)\s+(.+?)\s+(On|Off|WDDM|TCC)\s*\|\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f:.]+)"
)
# `| N/A   52C    P0            432W /  700W |   11125MiB /  81559MiB |     N/A      Default |`
_MEMORY = re.compile(r"(\d+)MiB\s*/\s*(\d+)MiB")
_TEMP = re.compile(r"^\|\s*\S+\s+(\d+)C\s")
_POWER = re.compile(r"(\d+(?:\.\d+)?)W\s*/\s*(\d+(?:\.\d+)?)W")
_UTIL = re.compile(r"\|\s*(\d+)%\s+\S")
# `|  0    2   0   0  |           11091MiB / 40448MiB    | 60      0 |  3   0    3 ...`
_MIG_ROW = re.compile(r"^\|\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+\|(.*?)\|\s*(\S+)")
# `|    0    2    0            21180      C   /root/tools/memhog                     2296MiB |`
_PROC_ROW = re.compile(
    r"^\|\s+(\d+)\s+(\S+)\s+(\S+)\s+(\d+)\s+(C\+G|M\+C|C|G|M)\s+(.*?)\s+(\d+MiB|N/A)\s*\|$"
)
# The old layout's process rows have no GI/CI columns: `|    0     12345      C   python  ...`
_OLD_PROC_ROW = re.compile(r"^\|\s+(\d+)\s+(\d+)\s+(C\+G|M\+C|C|G|M)\s+(.*?)\s+(\d+MiB|N/A)\s*\|$")


@dataclass(slots=True)
class TableReading:
    """What the plain tables say: GPUs by index, their MIG devices, the processes."""

    gpus: list[Gpu] = field(default_factory=list)
    """GPUs (uuid empty: the table names none), instances under those in MIG mode."""
    apps: list[tuple[int, GpuApp]] = field(default_factory=list)
    """(GPU index, process) with its GI/CI; the app's gpu_uuid is empty."""


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _gpu(head: str, second: str, third: str) -> Gpu | None:
    found = _GPU_ROW.match(head)
    if found is None:
        return None
    memory = _MEMORY.search(second)
    temp = _TEMP.match(second)
    power = _POWER.search(second)
    util = _UTIL.search(second)
    mig = third.rstrip(" |").rsplit("|", 1)[-1].strip() or None
    return Gpu(
        index=int(found.group(1)),
        uuid="",
        name=found.group(2),
        util_percent=float(util.group(1)) if util else None,
        memory_used=int(memory.group(1)) * MIB if memory else None,
        memory_total=int(memory.group(2)) * MIB if memory else None,
        temperature_c=float(temp.group(1)) if temp else None,
        power_w=float(power.group(1)) if power else None,
        power_limit_w=float(power.group(2)) if power else None,
        bus_id=found.group(4),
        mig_mode=mig if mig in ("Enabled", "Disabled") else None,
    )


def _instance(row: re.Match[str]) -> MigInstance:
    memory = _MEMORY.search(row.group(5))
    cell = row.group(5).strip()
    return MigInstance(
        device_index=int(row.group(4)),
        gpu_instance_id=int(row.group(2)),
        compute_instance_id=int(row.group(3)),
        memory_used=int(memory.group(1)) * MIB if memory else None,
        memory_total=int(memory.group(2)) * MIB if memory else None,
        multiprocessor_count=_int(row.group(6)),
        error=cell.strip("[]") if cell.startswith("[") else None,
    )


def _app(line: str) -> tuple[int, GpuApp] | None:
    found = _PROC_ROW.match(line)
    if found is not None:
        gpu, gi, ci, pid, kind, name, memory = found.groups()
    else:
        old = _OLD_PROC_ROW.match(line)
        if old is None:
            return None
        (gpu, pid, kind, name, memory), gi, ci = old.groups(), "N/A", "N/A"
    used = int(memory[:-3]) * MIB if memory.endswith("MiB") else None
    app = GpuApp("", int(pid), used, name, kind, _int(gi), _int(ci))
    return int(gpu), app


def parse_nvidia_smi_table(text: str) -> TableReading:
    """The GPUs, MIG devices and processes of plain `nvidia-smi` output.

    Raises ValueError when the text has no GPU table at all (an error message, say).
    """
    lines = [line.rstrip("\r") for line in text.split("\n")]
    reading = TableReading()
    instances: dict[int, list[MigInstance]] = {}
    part = ""
    for at, line in enumerate(lines):
        if "MIG devices:" in line:
            part = "mig"
        elif "Processes:" in line:
            part = "procs"
        elif part == "" and (gpu := _gpu(line, *_next_two(lines, at))) is not None:
            reading.gpus.append(gpu)
        elif part == "mig" and (row := _MIG_ROW.match(line)) is not None:
            instances.setdefault(int(row.group(1)), []).append(_instance(row))
        elif part == "procs" and (app := _app(line)) is not None:
            reading.apps.append(app)
    if not reading.gpus:
        words = next((line.strip() for line in lines if line.strip()), "no output")
        raise ValueError(f"no GPU table in nvidia-smi's output: {words[:200]}")
    reading.gpus = [_with(gpu, tuple(instances.get(gpu.index, ()))) for gpu in reading.gpus]
    return reading


def _next_two(lines: list[str], at: int) -> tuple[str, str]:
    return (
        lines[at + 1] if at + 1 < len(lines) else "",
        lines[at + 2] if at + 2 < len(lines) else "",
    )


def _with(gpu: Gpu, instances: tuple[MigInstance, ...]) -> Gpu:
    if not instances:
        return gpu
    return replace(gpu, mig_mode=gpu.mig_mode or "Enabled", mig_instances=instances)
