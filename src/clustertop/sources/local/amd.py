"""Local AMD GPUs: the amdsmi library when present, else sysfs each tick with amd-smi (or
rocm-smi) now and then for names and processes."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from clustertop.model import ContainerRef, Gpu, GpuProcess
from clustertop.parsers.amd_smi import (
    AmdProcess,
    parse_metric,
    parse_processes,
    parse_static,
    place_processes,
)
from clustertop.parsers.amd_sysfs import (
    HWMON_FILES,
    SYSFS_FILES,
    parse_kfd_lines,
    place_kfd,
    sysfs_facts,
)
from clustertop.parsers.amd_values import AmdGpuFacts, amd_gpus, merge_facts, tool_output
from clustertop.parsers.rocm_smi import ROCM_SMI_ARGS, parse_rocm_smi
from clustertop.sources.local import amd_lib
from clustertop.sources.local.amd_lib import AmdLibrary
from clustertop.sources.local.gpu import GpuReading
from clustertop.sources.local.processes import describe_pid

SLOW_S = 10.0
"""Seconds between amd-smi (or rocm-smi) runs: one costs 40-60 ms of CPU, sysfs almost none."""
TOOL_TIMEOUT_S = 10.0
"""Seconds one amd-smi or rocm-smi run may take."""
KFD_PROC = Path("class/kfd/kfd/proc")
"""Under the sysfs root: one folder per process using a GPU through ROCm, VRAM per GPU."""
SYSFS_ROOT_ENV = "CT_SYSFS_ROOT"
"""Environment variable naming another sysfs root (tests); /sys by default."""
_NO_NVIDIA = ("NVIDIA driver not loaded", "nvidia-ml-py (pynvml) not installed")


def read_sysfs_cards(root: Path) -> dict[str, dict[str, str]]:
    """card -> key -> value for every DRM card with a PCI device (the keys of SYSFS_FILES,
    HWMON_FILES and `bus`); unreadable files are left out."""
    cards: dict[str, dict[str, str]] = {}
    drm = root / "class" / "drm"
    for card in sorted(drm.glob("card[0-9]*")):
        if "-" in card.name or not (card / "device" / "vendor").is_file():
            continue  # connectors (card0-DP-1) and devices without PCI identity
        values = {"bus": card.joinpath("device").resolve().name}
        files = [(k, card / f) for k, f in SYSFS_FILES.items()]
        for hwmon in sorted((card / "device" / "hwmon").glob("hwmon*"))[:1]:
            files += [(k, hwmon / f) for k, f in HWMON_FILES.items()]
        for key, path in files:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                values[key] = path.read_text().strip()
        cards[card.name] = values
    return cards


def read_kfd_lines(root: Path) -> str:
    """The KFD driver's GPU nodes and per-process VRAM as the probe prints them
    (`kfd gpu GPUID LOCATION_ID DOMAIN`, `kfd vram PID GPUID BYTES`; parsers/amd_sysfs.py)."""
    lines = []
    kfd = root / KFD_PROC.parent
    for node in sorted((kfd / "topology" / "nodes").glob("[0-9]*")):
        with contextlib.suppress(OSError, UnicodeDecodeError):
            gpu_id = (node / "gpu_id").read_text().strip()
            properties = dict(
                line.split(" ", 1)
                for line in (node / "properties").read_text().split("\n")
                if " " in line
            )
            location, domain = properties.get("location_id", ""), properties.get("domain", "0")
            lines.append(f"kfd gpu {gpu_id} {location.strip()} {domain.strip()}")
    for process in sorted((kfd / "proc").glob("[0-9]*")):
        for vram in sorted(process.glob("vram_*")):
            with contextlib.suppress(OSError, UnicodeDecodeError):
                lines.append(f"kfd vram {process.name} {vram.name[5:]} {vram.read_text().strip()}")
    return "\n".join(lines)


def _run(command: Sequence[str]) -> tuple[int, str]:
    """Exit status and output (stdout, else stderr) of one tool run."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            timeout=TOOL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return 124, f"no answer within {TOOL_TIMEOUT_S:g} s"
    except OSError as exc:
        return 127, str(exc)
    out = done.stdout.decode(errors="replace")
    return done.returncode, out if out.strip() else done.stderr.decode(errors="replace")


class AmdReader:
    """Reads this machine's AMD GPUs; an empty reading (no error) where it has none."""

    def __init__(
        self,
        sysfs_root: Path | None = None,
        *,
        slow_s: float = SLOW_S,
        clock: Callable[[], float] = time.monotonic,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self._root = sysfs_root or Path(os.environ.get(SYSFS_ROOT_ENV) or "/sys")
        self._slow_s, self._clock, self._which = slow_s, clock, which
        self._library: AmdLibrary | None = None
        self._library_tried = False
        self._next_slow = float("-inf")
        self._slow_at = 0.0
        self._static: list[AmdGpuFacts] = []
        self._processes: list[AmdProcess] = []
        self._tool_error: str | None = None

    def read(self) -> GpuReading:
        """One reading: GPUs in PCI bus order and their processes."""
        library = self._opened_library()
        if library is not None:
            try:
                facts, processes = library.read()
            except library.failure as exc:
                return GpuReading(error=f"amdsmi: {exc}")
            gpus = amd_gpus(facts)
            # The library lists GPUs in its own order: processes find theirs by bus ID.
            return _reading(gpus, place_processes(processes, gpus, facts), None)
        tick = sysfs_facts(read_sysfs_cards(self._root))
        if not tick and (self._root / "class" / "drm").is_dir():
            return GpuReading()  # DRM devices, none of them AMD's
        kfd = (self._root / KFD_PROC).is_dir()
        tool = self._which("amd-smi") or self._which("rocm-smi")
        age = None
        if tool is not None:
            self._refresh(tool, processes=not kfd)
            if not tick:  # no sysfs here (a container without it): the tool's own metrics
                tick = self._metrics(tool)
                # rocm-smi's values are those of its slow run (every SLOW_S): say how old.
                if Path(tool).name != "amd-smi":
                    age = round(max(self._clock() - self._slow_at, 0.0), 1)
        gpus = amd_gpus(merge_facts(tick, self._static))
        if age is not None:
            gpus = tuple(dataclasses.replace(gpu, reading_age_s=age) for gpu in gpus)
        if kfd:  # the driver's own per-process VRAM: every tick, nothing to run
            rows = place_kfd(parse_kfd_lines(read_kfd_lines(self._root)), gpus)
            pairs = [(row, gpus[row.gpu_index]) for row in rows]
        else:
            pairs = place_processes(self._processes, gpus, self._static)
        return _reading(gpus, pairs, self._tool_error if tool else None)

    def close(self) -> None:
        """Shut the library down if it was initialised."""
        library, self._library = self._library, None
        if library is not None:
            library.close()

    def _opened_library(self) -> AmdLibrary | None:
        if self._library is None and not self._library_tried:
            self._library_tried = True
            module = amd_lib.amdsmi_module()  # looked up here: the seam tests replace
            if module is not None:
                try:
                    self._library = AmdLibrary(module)
                except Exception:  # noqa: BLE001 - amdsmi_init failing means: use the tools
                    self._library = None
        return self._library

    def _refresh(self, tool: str, *, processes: bool) -> None:
        if self._clock() < self._next_slow:
            return
        self._slow_at = self._clock()
        self._next_slow = self._slow_at + self._slow_s
        self._tool_error = None
        try:
            if Path(tool).name == "amd-smi":
                self._static = parse_static(
                    _checked(_run([tool, "static", "--json"]), "amd-smi static")
                )
                if processes:
                    self._processes = parse_processes(
                        _checked(_run([tool, "process", "--json"]), "amd-smi process")
                    )
            else:
                self._static = parse_rocm_smi(_checked(_run([tool, *ROCM_SMI_ARGS]), "rocm-smi"))
                self._processes = []
        except ValueError as exc:
            self._tool_error = str(exc)

    def _metrics(self, tool: str) -> list[AmdGpuFacts]:
        try:
            if Path(tool).name == "amd-smi":
                return parse_metric(_checked(_run([tool, "metric", "--json"]), "amd-smi metric"))
            return list(self._static)
        except ValueError as exc:
            self._tool_error = str(exc)
            return []


def _checked(result: tuple[int, str], command: str) -> str:
    """The output of a run that may hold JSON; ValueError naming the failure otherwise."""
    code, output = result
    return tool_output(output, code, command)


def _reading(
    gpus: tuple[Gpu, ...], pairs: list[tuple[AmdProcess, Gpu]], error: str | None
) -> GpuReading:
    return GpuReading(gpus, tuple(_process(process, gpu) for process, gpu in pairs), error)


def _process(process: AmdProcess, gpu: Gpu) -> GpuProcess:
    described = describe_pid(process.pid)
    container_id = described.container_id if described else None
    return GpuProcess(
        pid=process.pid,
        gpu_index=gpu.index,
        gpu_uuid=gpu.uuid,
        memory_used=process.vram_used,
        user=described.user if described else None,
        command=(described.command if described else None) or process.name or None,
        container=ContainerRef(container_id, "") if container_id else None,
        start_time=described.start_time if described else None,
    )


def both_vendors(nvidia: GpuReading, amd: GpuReading) -> GpuReading:
    """NVIDIA's and AMD's readings as one; NVML's "no NVIDIA here" is no error on an AMD host."""
    nvidia_error = nvidia.error
    if nvidia_error and amd.gpus and nvidia_error.startswith(_NO_NVIDIA):
        nvidia_error = None
    errors = [e for e in (nvidia_error, f"AMD: {amd.error}" if amd.error else None) if e]
    return GpuReading(
        nvidia.gpus + amd.gpus, nvidia.processes + amd.processes, "; ".join(errors) or None
    )
