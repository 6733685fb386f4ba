"""Stand-in nvidia-smi for simulated hosts: real output formats, behaviour from $CT_FAKE_GPU."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fleet.fake_gpu_state import (
    FakeWorld,
    Gpu,
    GpuProcess,
    SpecError,
    build_world,
    read_spec,
)
from tests.fleet.fake_mig import mig_list_lines, xml_lines
from tests.realdata import fixture

APP_FIELDS = {
    "timestamp": "timestamp",
    "gpu_name": "gpu_name",
    "gpu_bus_id": "gpu_bus_id",
    "gpu_serial": "gpu_serial",
    "gpu_uuid": "gpu_uuid",
    "pid": "pid",
    "process_name": "process_name",
    "name": "process_name",
    "used_gpu_memory": "used_memory",
    "used_memory": "used_memory",
}
"""--query-compute-apps field (or alias) -> what it reports."""

EXIT_INVALID_ARGS = 2
EXIT_NO_DEVICES = 6
EXIT_NO_DRIVER = 9
EXIT_NO_PERMISSION = 4
EXIT_GPU_LOST = 15
EXIT_MISMATCH = 18
EXIT_SPEC = 255

HELP_HINT = "Please run 'nvidia-smi -h' for help."
INVALID_ARGS = f"Invalid combination of input arguments. {HELP_HINT}"
NO_DEVICES = "No devices were found"
MISMATCH_FALLBACK = "Failed to initialize NVML: Driver/library version mismatch"
NO_DRIVER_FALLBACK = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)
TEXT_FOR_TEMPLATE = {
    "h200": "h200-load-processes-drv590.txt",
    "l40s": "l40s-idle-drv595.txt",
    "h100-mig": "h100-mig-load-processes-drv590.txt",
    "rtx-4080": "rtx-4080-super-load-cg-processes-drv595.txt",
    "rtx-2080": "rtx-2080-super-linux-drv610-idle.txt",
}
"""Template file prefix -> the text table a plain `nvidia-smi` replays for it."""


class UsageError(Exception):
    """A command line real nvidia-smi would reject; the message is what it prints."""


@dataclass
class Options:
    """A parsed nvidia-smi command line (the subset the fleet simulates)."""

    query_gpu: list[str] | None = None
    """--query-gpu fields."""
    query_apps: list[str] | None = None
    """--query-compute-apps fields."""
    fmt: set[str] = field(default_factory=set)
    """--format words: csv, noheader, nounits."""
    list_gpus: bool = False
    """-L / --list-gpus."""
    query: bool = False
    """-q / --query."""
    xml: bool = False
    """-x / --xml-format (with -q)."""
    loop_ms: int | None = None
    """-l N (seconds) or -lms N (milliseconds): repeat until killed."""
    ids: list[str] | None = None
    """-i / --id: GPU indexes, UUIDs or PCI bus ids."""
    help: bool = False
    """-h / --help."""


_VALUED = {
    "--query-gpu": "query_gpu",
    "--query-compute-apps": "query_apps",
    "--format": "fmt",
    "-i": "ids",
    "--id": "ids",
    "-l": "loop_s",
    "--loop": "loop_s",
    "-lms": "loop_ms",
    "--loop-ms": "loop_ms",
}


def _split_args(argv: list[str]) -> list[tuple[str, str | None]]:
    """Pairs of (option, value); values come as `--opt=v` or as the next word."""
    pairs: list[tuple[str, str | None]] = []
    words = iter(argv)
    for word in words:
        name, eq, inline = word.partition("=")
        if name in _VALUED:
            value = inline if eq else next(words, None)
            if value is None:
                raise UsageError(f"ERROR: Option {name} is missing its value. {HELP_HINT}")
            pairs.append((name, value))
        elif word in ("-L", "--list-gpus", "-h", "--help", "-q", "--query", "-x", "--xml-format"):
            pairs.append((word, None))
        else:
            raise UsageError(INVALID_ARGS)
    return pairs


def parse_args(argv: list[str]) -> Options:
    """Parse the flags the fleet simulates; anything else is rejected as real nvidia-smi would."""
    opts = Options()
    for name, value in _split_args(argv):
        kind = _VALUED.get(name)
        words = [w.strip() for w in (value or "").split(",") if w.strip()]
        if kind == "query_gpu":
            opts.query_gpu = words
        elif kind == "query_apps":
            opts.query_apps = words
        elif kind == "fmt":
            opts.fmt = set(words)
        elif kind == "ids":
            opts.ids = words
        elif kind in ("loop_s", "loop_ms"):
            if not (value or "").isdigit():
                raise UsageError(INVALID_ARGS)
            opts.loop_ms = int(value or 0) * (1000 if kind == "loop_s" else 1)
        elif name in ("-L", "--list-gpus"):
            opts.list_gpus = True
        elif name in ("-q", "--query"):
            opts.query = True
        elif name in ("-x", "--xml-format"):
            opts.xml = True
        else:
            opts.help = True
    if (opts.query_gpu is not None or opts.query_apps is not None) and "csv" not in opts.fmt:
        raise UsageError(f"ERROR: Option --format is missing its value. {HELP_HINT}")
    if opts.query_gpu is not None and opts.query_apps is not None:
        raise UsageError(INVALID_ARGS)
    if (opts.xml and not opts.query) or (opts.query and not opts.xml):
        raise UsageError(INVALID_ARGS)  # -x needs -q; plain -q text is not simulated
    return opts


def _bus_matches(wanted: str, bus_id: str) -> bool:
    return bus_id.lower().endswith(wanted.lower().split(":", 1)[-1]) and ":" in wanted


def select_gpus(gpus: list[Gpu], ids: list[str] | None) -> list[Gpu]:
    """The GPUs -i names (all without -i), in index order; none found is an error."""
    if ids is None:
        chosen = list(gpus)
    else:
        chosen = [
            g
            for g in gpus
            if any(
                w == str(g.index) or w.lower() == g.uuid.lower() or _bus_matches(w, g.bus_id)
                for w in ids
            )
        ]
    if not chosen:
        raise LookupError(NO_DEVICES)
    return chosen


def lost_line(gpu: Gpu) -> str:
    """What nvidia-smi prints for a GPU that fell off the bus (4-digit PCI domain)."""
    domain, rest = gpu.bus_id.split(":", 1)
    return f"Unable to determine the device handle for GPU{domain[-4:]}:{rest}: Unknown Error"


def timestamp() -> str:
    """Now, in nvidia-smi's "YYYY/MM/DD HH:MM:SS.mmm" form."""
    now = time.time()
    return (
        time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    )


def cell(value: str, unit: str | None, fmt: set[str]) -> str:
    """A value as printed: unit appended unless nounits, never after [N/A]-style words."""
    if unit is None or "nounits" in fmt or value.startswith("[") or value in ("", "N/A"):
        return value
    return f"{value} {unit}"


def header(names: list[str], units: list[str | None]) -> str:
    """The CSV header: each requested name, with " [unit]" where the field has one."""
    return ", ".join(f"{n} [{u}]" if u else n for n, u in zip(names, units, strict=True))


def gpu_value(gpu: Gpu, canonical: str, count: int) -> str:
    """One --query-gpu value of one GPU."""
    if canonical == "count":
        return str(count)
    if canonical == "timestamp":
        return timestamp()
    return gpu.values.get(canonical, "[N/A]")


def query_gpu(
    world: FakeWorld, gpus: list[Gpu], opts: Options, lost: bool, first: bool
) -> list[str]:
    """Lines for --query-gpu; raises UsageError naming the first field this driver lacks."""
    names = opts.query_gpu or []
    for name in names:
        if any(g.canonical(name) is None for g in gpus):
            raise UsageError(f'Field "{name}" is not a valid field to query.\n')
    ref = gpus[0]
    units = [ref.units.get(ref.canonical(n) or n) for n in names]
    lines = [header(names, units)] if first and "noheader" not in opts.fmt else []
    for gpu in gpus:
        if lost and gpu.index == 0:
            lines.append(lost_line(gpu))
            continue
        canon = [gpu.canonical(n) or n for n in names]
        values = [gpu_value(gpu, c, len(world.gpus)) for c in canon]
        lines.append(", ".join(cell(v, u, opts.fmt) for v, u in zip(values, units, strict=True)))
    return lines


def app_values(proc: GpuProcess, gpu: Gpu) -> dict[str, str]:
    """Every --query-compute-apps value of one process, by what it reports."""
    return {
        "timestamp": timestamp(),
        "gpu_name": gpu.name,
        "gpu_bus_id": gpu.bus_id,
        "gpu_serial": gpu.values.get("serial", "[N/A]"),
        "gpu_uuid": gpu.uuid,
        "pid": str(proc.pid),
        "process_name": proc.process_name,
        "used_memory": str(proc.used_mib),
    }


def query_apps(
    world: FakeWorld, gpus: list[Gpu], opts: Options, lost: bool, first: bool
) -> list[str]:
    """Lines for --query-compute-apps over the selected GPUs."""
    names = opts.query_apps or []
    for name in names:
        if name not in APP_FIELDS:
            raise UsageError(f'Field "{name}" is not a valid field to query.\n')
    units = ["MiB" if APP_FIELDS[n] == "used_memory" else None for n in names]
    lines = [header(names, units)] if first and "noheader" not in opts.fmt else []
    chosen = {g.index: g for g in gpus}
    if lost and 0 in chosen:
        lines.append(lost_line(chosen[0]))
    for proc in world.processes:
        gpu = chosen.get(proc.gpu)
        if gpu is None or (lost and gpu.index == 0):
            continue
        known = app_values(proc, gpu)
        values = [known[APP_FIELDS[n]] for n in names]
        lines.append(", ".join(cell(v, u, opts.fmt) for v, u in zip(values, units, strict=True)))
    return lines


def list_lines(gpus: list[Gpu], lost: bool) -> list[str]:
    """Lines for -L (a MIG GPU's MIG devices under it)."""
    lines = []
    for g in gpus:
        if lost and g.index == 0:
            lines.append(lost_line(g))
            continue
        lines.append(f"GPU {g.index}: {g.name} (UUID: {g.uuid})")
        if g.mig is not None:
            lines.extend(mig_list_lines(g))
    return lines


def text_table(world: FakeWorld, spec: dict[str, Any]) -> list[str]:
    """A plain `nvidia-smi`: a real captured table replayed as is (not generated)."""
    name = world.text_template
    if name is None:
        first = str((spec.get("gpus") or [{}])[0].get("template", "h200"))
        prefix = next((p for p in TEXT_FOR_TEMPLATE if first.startswith(p)), "h200")
        name = TEXT_FOR_TEMPLATE[prefix]
    return fixture(f"nvidia-smi-text/{name}").read_text().splitlines()


def error_text(file_name: str, fallback: str) -> str:
    """A real driver error message from the fixtures, or the same words if they are missing."""
    try:
        return fixture(f"errors/{file_name}").read_text().strip()
    except OSError:
        return fallback


def render(opts: Options, spec: dict[str, Any], first: bool) -> tuple[list[str], int]:
    """Output lines and exit status of one round, for the spec's mode."""
    mode = spec["mode"]
    if mode == "no-driver":
        return [
            error_text("nvidia-smi-driver-not-loaded-oneline.txt", NO_DRIVER_FALLBACK)
        ], EXIT_NO_DRIVER
    if mode == "mismatch":
        return [
            error_text("nvidia-smi-nvml-driver-library-mismatch.txt", MISMATCH_FALLBACK)
        ], EXIT_MISMATCH
    world = build_world(spec)
    try:
        gpus = select_gpus(world.gpus, opts.ids)
    except LookupError:
        return [NO_DEVICES], EXIT_NO_DEVICES
    lost = mode == "lost-gpu"
    status = EXIT_GPU_LOST if lost and any(g.index == 0 for g in gpus) else 0
    if opts.query_gpu is not None:
        return query_gpu(world, gpus, opts, lost, first), status
    if opts.query_apps is not None:
        return query_apps(world, gpus, opts, lost, first), status
    if opts.list_gpus:
        return list_lines(gpus, lost), status
    if opts.xml and spec.get("xml_refused"):
        # A host where `-q -x` fails (the spec's words, exit 4) but the plain table works.
        return [str(spec["xml_refused"])], EXIT_NO_PERMISSION
    if opts.xml:
        return xml_lines(world, gpus), status
    if lost:
        return [lost_line(world.gpus[0])], EXIT_GPU_LOST
    return text_table(world, spec), 0


def _emit(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


def one_round(opts: Options, spec_path: Path, first: bool) -> int:
    """Read the spec afresh, act out its mode once, print; returns the exit status."""
    spec = read_spec(spec_path)
    if spec["mode"] == "hang":
        while True:  # like a GPU that fell off the bus mid-call: only a signal ends it
            time.sleep(3600)
    if spec["mode"] == "slow":
        time.sleep(float(spec.get("slow_seconds", 3)))
    lines, status = render(opts, spec, first)
    _emit(lines)
    return status


def run(argv: list[str]) -> int:
    """The whole program; returns its exit status."""
    spec_path = Path(os.environ.get("CT_FAKE_GPU", ""))
    try:
        opts = parse_args(argv)
        if opts.help:
            _emit(["NVIDIA System Management Interface (stand-in for tests; see tests/fleet)"])
            return 0
        first = True
        while True:
            status = one_round(opts, spec_path, first)
            if opts.loop_ms is None or status not in (0, EXIT_GPU_LOST):
                return status
            first = False
            time.sleep(opts.loop_ms / 1000)
    except UsageError as exc:
        _emit([str(exc)])
        return EXIT_INVALID_ARGS
    except (OSError, ValueError, KeyError, SpecError) as exc:
        print(f"fake nvidia-smi: bad spec {str(spec_path)!r}: {exc}", file=sys.stderr)
        return EXIT_SPEC


def main() -> None:
    """Entry point: `python -m tests.fleet.fake_nvidia_smi ARGS...`."""
    try:
        sys.exit(run(sys.argv[1:]))
    except BrokenPipeError:
        # The reader went away (probe restarted): leave quietly like a killed nvidia-smi.
        os._exit(0)
    except KeyboardInterrupt:
        os._exit(130)


if __name__ == "__main__":
    main()
