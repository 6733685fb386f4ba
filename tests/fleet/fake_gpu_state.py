"""The stand-in nvidia-smi's world: GPU rows from real CSV captures, shaped by a JSON spec."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realdata import fixture

MODES = ("ok", "no-driver", "mismatch", "lost-gpu", "hang", "slow")
"""Behaviours a spec's "mode" may ask for."""

COMPUTED_GPU_FIELDS = ("index", "count", "timestamp")
"""--query-gpu fields computed per call rather than taken from a template."""

GPU_ALIASES = {
    "gpu_name": "name",
    "gpu_serial": "serial",
    "gpu_uuid": "uuid",
    "gpu_bus_id": "pci.bus_id",
    "clocks.gr": "clocks.current.graphics",
    "clocks.sm": "clocks.current.sm",
    "clocks.mem": "clocks.current.memory",
    "clocks.video": "clocks.current.video",
    "clocks.max.gr": "clocks.max.graphics",
    "clocks.max.mem": "clocks.max.memory",
}
"""Alternative names nvidia-smi accepts (see `nvidia-smi --help-query-gpu`)."""

_HEADER_UNIT = re.compile(r"^(?P<name>.+?) \[(?P<unit>[^\]]+)\]$")


class SpecError(ValueError):
    """The JSON spec asks for something the stand-in cannot do."""


@dataclass(frozen=True)
class Template:
    """One GPU's row from an all-fields CSV capture, values with their units split off."""

    values: dict[str, str]
    """Field name (as in the header, unit removed) -> value without its unit."""
    units: dict[str, str]
    """Field name -> unit shown in the header ("MiB", "W", "%", "MHz", "us", ...)."""


def parse_template(text: str) -> Template:
    """Parse a capture made with `--format=csv`: a header line and one value row."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise SpecError("template needs a header line and a value row")
    names = [cell.strip() for cell in lines[0].split(",")]
    cells = [cell.strip() for cell in lines[1].split(",")]
    if len(names) != len(cells):
        raise SpecError(f"template header has {len(names)} fields but the row has {len(cells)}")
    values: dict[str, str] = {}
    units: dict[str, str] = {}
    for header_name, cell in zip(names, cells, strict=True):
        match = _HEADER_UNIT.match(header_name)
        name = match["name"] if match else header_name
        if match:
            units[name] = match["unit"]
        values[name] = strip_unit(cell, units.get(name))
    return Template(values, units)


def strip_unit(value: str, unit: str | None) -> str:
    """ "32362 MiB" -> "32362"; "[N/A]" and unit-less values unchanged."""
    value = str(value).strip()
    if unit and value.endswith(" " + unit):
        return value[: -len(unit) - 1]
    return value


@functools.lru_cache(maxsize=32)
def load_template(name: str) -> Template:
    """A template by file name (in the fixtures' nvidia-smi-csv folder) or absolute path."""
    path = Path(name) if Path(name).is_absolute() else fixture(f"nvidia-smi-csv/{name}")
    return parse_template(path.read_text())


@dataclass
class Gpu:
    """One simulated GPU: its position and every field's current value."""

    index: int
    """Position in the spec's list, which is nvidia-smi's index."""
    values: dict[str, str]
    """Field -> value without unit."""
    units: dict[str, str]
    """Field -> unit."""
    mig: dict[str, Any] | None = None
    """The spec's "mig" object: a MIG GPU (see fake_mig); None: a whole GPU."""

    def canonical(self, name: str) -> str | None:
        """The field `name` stands for on this GPU, or None if this driver would reject it."""
        if name in COMPUTED_GPU_FIELDS or name in self.values:
            return name
        alias = GPU_ALIASES.get(name)
        if alias in self.values:
            return alias
        # Newer drivers renamed clocks_throttle_reasons.* but still accept the old names.
        if name.startswith("clocks_throttle_reasons."):
            renamed = "clocks_event_reasons." + name.split(".", 1)[1]
            if renamed in self.values:
                return renamed
        return None

    @property
    def name(self) -> str:
        """Product name."""
        return self.values.get("name", "[N/A]")

    @property
    def uuid(self) -> str:
        """GPU UUID."""
        return self.values.get("uuid", "[N/A]")

    @property
    def bus_id(self) -> str:
        """PCI bus id as in the CSV, e.g. 00000000:83:00.0."""
        return self.values.get("pci.bus_id", "00000000:00:00.0")


@dataclass(frozen=True)
class GpuProcess:
    """One compute process on a GPU, as --query-compute-apps lists it."""

    gpu: int
    """Index of the GPU it runs on."""
    pid: int
    """Host PID."""
    process_name: str
    """argv[0] of the process, as nvidia-smi shows it."""
    used_mib: int
    """GPU memory it holds, MiB."""
    gi: int | None = None
    """MIG GPU instance it runs in (None: whole GPU)."""
    ci: int | None = None
    """MIG compute instance it runs in."""


@dataclass
class FakeWorld:
    """Everything one nvidia-smi call reports."""

    gpus: list[Gpu]
    """The GPUs, in index order."""
    processes: list[GpuProcess] = field(default_factory=list)
    """Running compute processes, GPU order then spec order."""
    text_template: str | None = None
    """Fixture file (nvidia-smi-text) printed by a plain `nvidia-smi`."""


def read_spec(path: Path) -> dict[str, Any]:
    """The JSON spec, checked for a known mode."""
    spec = json.loads(path.read_text())
    if not isinstance(spec, dict):
        raise SpecError("spec must be a JSON object")
    mode = spec.setdefault("mode", "ok")
    if mode not in MODES:
        raise SpecError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    return spec


def _derived_uuid(template_uuid: str, index: int) -> str:
    digest = hashlib.sha256(f"{template_uuid}/{index}".encode()).hexdigest()
    return f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _derived_bus_id(bus_id: str, index: int) -> str:
    domain, bus, rest = bus_id.split(":", 2)
    return f"{domain}:{(int(bus, 16) + index) % 256:02X}:{rest}"


def build_gpu(index: int, entry: dict[str, Any]) -> Gpu:
    """A GPU from its spec entry: the template's values with the entry's overrides."""
    template = load_template(str(entry.get("template", "h200-load-allfields-drv590.csv")))
    gpu = Gpu(index, dict(template.values), dict(template.units))
    gpu.values["index"] = str(index)
    if index > 0 and "uuid" not in entry:
        # Several GPUs from one masked capture would otherwise share one UUID and bus.
        gpu.values["uuid"] = _derived_uuid(gpu.uuid, index)
    if index > 0 and "pci.bus_id" not in entry and "pci.bus_id" in gpu.values:
        gpu.values["pci.bus_id"] = _derived_bus_id(gpu.bus_id, index)
    mig = entry.get("mig")
    gpu.mig = dict(mig) if isinstance(mig, dict) else None
    for key, value in entry.items():
        if key in ("template", "mig"):
            continue
        name = gpu.canonical(key) or key
        gpu.values[name] = strip_unit(str(value), gpu.units.get(name))
    return gpu


def _as_int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value is not None else None
    except ValueError:
        return None


def fill_auto_memory(
    gpu: Gpu, processes: list[GpuProcess], base_mib: int, free_given: bool
) -> None:
    """memory.used "auto": base plus this GPU's processes; memory.free follows unless given."""
    if gpu.values.get("memory.used") != "auto":
        return
    used = base_mib + sum(p.used_mib for p in processes if p.gpu == gpu.index)
    gpu.values["memory.used"] = str(used)
    total = _as_int(gpu.values.get("memory.total"))
    reserved = _as_int(gpu.values.get("memory.reserved")) or 0
    if not free_given and total is not None and "memory.free" in gpu.values:
        gpu.values["memory.free"] = str(max(total - reserved - used, 0))


def process_name(pid: int) -> str:
    """argv[0] of `pid` like nvidia-smi shows it, else its comm, else [N/A]."""
    proc = Path("/proc") / str(pid)
    try:
        argv0 = (proc / "cmdline").read_bytes().split(b"\0", 1)[0].decode(errors="replace")
        if argv0:
            return argv0
        return (proc / "comm").read_bytes().decode(errors="replace").strip() or "[N/A]"
    except OSError:
        return "[N/A]"


def container_pids(names: list[str]) -> dict[str, int]:
    """Host PID of each running container (by name or id prefix), via the docker client."""
    if not names:
        return {}
    fmt = "{{.Id}} {{.Name}} {{.State.Running}} {{.State.Pid}}"
    try:
        out = subprocess.run(
            ["docker", "inspect", "--format", fmt, *names],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 4 or parts[2] != "true" or not parts[3].isdigit() or parts[3] == "0":
            continue
        for wanted in names:
            if parts[1] == "/" + wanted or parts[0].startswith(wanted):
                found[wanted] = int(parts[3])
    return found


def resolve_processes(entries: list[dict[str, Any]], gpu_count: int) -> list[GpuProcess]:
    """Spec process entries -> running GPU processes; stopped containers are left out."""
    wanted = [str(e["container"]) for e in entries if "container" in e]
    pids = container_pids(wanted)
    found = []
    for entry in entries:
        gpu = int(entry.get("gpu", 0))
        pid = pids.get(str(entry["container"])) if "container" in entry else int(entry["pid"])
        if pid is None or not 0 <= gpu < gpu_count:
            continue
        name = str(entry.get("process_name") or process_name(pid))
        gi, ci = entry.get("gi"), entry.get("ci")
        used = int(entry.get("used_memory_mib", 0))
        found.append(
            GpuProcess(
                gpu,
                pid,
                name,
                used,
                None if gi is None else int(gi),
                None if ci is None else int(ci),
            )
        )
    found.sort(key=lambda p: p.gpu)
    return found


def build_world(spec: dict[str, Any]) -> FakeWorld:
    """The GPUs and processes a call reports right now."""
    entries = list(spec.get("gpus", []))
    gpus = [build_gpu(i, dict(e)) for i, e in enumerate(entries)]
    processes = resolve_processes(list(spec.get("processes", [])), len(gpus))
    base = int(spec.get("memory_base_mib", 0))
    for gpu, entry in zip(gpus, entries, strict=True):
        fill_auto_memory(gpu, processes, base, free_given="memory.free" in entry)
    text = spec.get("text_template")
    return FakeWorld(gpus, processes, str(text) if text else None)
