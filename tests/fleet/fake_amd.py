"""Stand-in amd-smi and rocm-smi, and a fake amdgpu sysfs tree, from one spec ($CT_FAKE_AMD).

The spec (JSON): {"mode": "ok" | "banner" | "fail", "gpus": [GPU...], "processes": [PROC...],
"kfd": true (write_sysfs adds the KFD driver's topology and per-process VRAM; false: none)}
with GPU = {"card", "bus", "name", "util", "vram_used", "vram_total" (bytes), "temp" (C),
"power", "cap" (W)} and PROC = {"gpu" (index in bus order), "pid", "name", "vram" (bytes)}.
Outputs replay the real formats of the captures in fixtures/real/amd: amd-smi 26.x
(`{"gpu_data": [...]}` for static and metric, 4-space indent, {value, unit} cells, "N/A" in
arrays; a list of {"gpu", "process_list"} for process, "No running processes detected" when
empty), rocm-smi's one compact line of string values keyed by card; "banner" prints amd-smi's
missing-groups WARNING first, "fail" exits 1 with only that warning.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from tests.realdata import fixture

MIB = 1024 * 1024
WARNING = (
    "WARNING: User is missing the following required groups: render, video. "
    "Please add user to these groups."
)
STATIC_TEMPLATE = "amd/amd-smi-static-json-mi210-amdsmi-gpu_data-wrapper.json"
SPEC_ENV = "CT_FAKE_AMD"


def read_spec() -> dict[str, Any]:
    """The spec named by $CT_FAKE_AMD."""
    spec: dict[str, Any] = json.loads(Path(os.environ[SPEC_ENV]).read_text())
    return spec


def _q(value: Any, unit: str) -> Any:
    return "N/A" if value is None else {"value": value, "unit": unit}


def _ordered(spec: dict[str, Any]) -> list[dict[str, Any]]:
    # amd-smi numbers GPUs in PCI bus order.
    gpus: list[dict[str, Any]] = sorted(spec["gpus"], key=lambda g: g["bus"])
    return gpus


def amd_static(spec: dict[str, Any]) -> dict[str, Any]:
    """`amd-smi static --json`: the real MI210 entry with this GPU's index, bus, name, sizes."""
    template = json.loads(fixture(STATIC_TEMPLATE).read_text())["gpu_data"][0]
    entries = []
    for index, gpu in enumerate(_ordered(spec)):
        entry = json.loads(json.dumps(template))
        entry["gpu"] = index
        entry["asic"]["market_name"] = gpu["name"]
        entry["bus"] = {"bdf": gpu["bus"], **entry["bus"]}
        entry["vram"]["size"] = _q(gpu["vram_total"] // MIB, "MB")
        entry["limit"]["socket_power"] = _q(gpu["cap"], "W")
        entries.append(entry)
    return {"gpu_data": entries}


def amd_metric(spec: dict[str, Any]) -> dict[str, Any]:
    """`amd-smi metric --json` in amd-smi 26.2.1's shape (as the R9700 capture shows it)."""
    entries = []
    for index, gpu in enumerate(_ordered(spec)):
        used, total = gpu["vram_used"] // MIB, gpu["vram_total"] // MIB
        entries.append(
            {
                "gpu": index,
                "usage": {
                    "gfx_activity": _q(gpu["util"], "%"),
                    "umc_activity": _q(0, "%"),
                    "mm_activity": _q(0, "%"),
                    "vcn_activity": [_q(0, "%"), "N/A", "N/A", "N/A"],
                    "jpeg_activity": ["N/A"] * 8,
                },
                "power": {"socket_power": _q(gpu["power"], "W"), "gfx_voltage": "N/A"},
                "temperature": {"edge": _q(gpu["temp"], "C"), "hotspot": "N/A", "mem": "N/A"},
                "mem_usage": {
                    "total_vram": _q(total, "MB"),
                    "used_vram": _q(used, "MB"),
                    "free_vram": _q(total - used, "MB"),
                },
            }
        )
    return {"gpu_data": entries}


def _process_info(proc: dict[str, Any]) -> dict[str, Any]:
    # The per-process object of amd-smi 26.2.1 (amd/amd-smi-process-json-r9700x2-...).
    return {
        "name": proc["name"],
        "pid": proc["pid"],
        "memory_usage": {
            "gtt_mem": _q(6180000, "B"),
            "cpu_mem": _q(0, "B"),
            "vram_mem": _q(proc["vram"], "B"),
        },
        "mem_usage": _q(0, "B"),
        "usage": {"gfx": _q(0, "ns"), "enc": _q(0, "ns")},
        "cu_occupancy": "N/A",
        "evicted_time": _q(0, "ms"),
    }


def amd_process(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """`amd-smi process --json`."""
    out = []
    for index in range(len(spec["gpus"])):
        procs = [p for p in spec.get("processes", []) if p["gpu"] == index]
        listed: list[Any] = [{"process_info": _process_info(p)} for p in procs]
        out.append(
            {
                "gpu": index,
                "process_list": listed or [{"process_info": "No running processes detected"}],
            }
        )
    return out


def rocm_smi(spec: dict[str, Any]) -> dict[str, Any]:
    """`rocm-smi ... --json`: string values keyed by DRM card (ROCm 6.0 key names)."""
    cards: dict[str, Any] = {}
    for gpu in spec["gpus"]:
        cards[gpu["card"]] = {
            "Card series": gpu["name"],
            "PCI Bus": gpu["bus"].upper(),
            "GPU use (%)": str(gpu["util"]),
            "GPU memory use (%)": "0",
            "VRAM Total Memory (B)": str(gpu["vram_total"]),
            "VRAM Total Used Memory (B)": str(gpu["vram_used"]),
            "Temperature (Sensor edge) (C)": f"{gpu['temp']:.1f}",
            "Average Graphics Package Power (W)": f"{gpu['power']:.1f}",
            "Max Graphics Package Power (W)": f"{gpu['cap']:.1f}",
            "0": "16.0GT/s x16 *",
        }
    cards["system"] = {"Driver version": "6.3.6"}
    return cards


def run(tool: str, argv: list[str]) -> int:
    """One invocation of the stand-in `tool` (amd-smi or rocm-smi)."""
    spec = read_spec()
    mode = spec.get("mode", "ok")
    if mode == "fail":
        print(WARNING, file=sys.stderr)
        return 1
    if tool == "rocm-smi":
        print(json.dumps(rocm_smi(spec)))
        return 0
    command = argv[0] if argv else ""
    builders = {"static": amd_static, "metric": amd_metric, "process": amd_process}
    if command not in builders or "--json" not in argv:
        print(f"amd-smi stand-in: unsupported arguments {argv}", file=sys.stderr)
        return 2
    if mode == "banner":
        print(WARNING)
    print(json.dumps(builders[command](spec), indent=4))
    return 0


def write_sysfs(root: Path, spec: dict[str, Any]) -> None:
    """An amdgpu sysfs tree under `root` (class/drm/cardN -> devices/...), values from the spec."""
    for gpu in spec["gpus"]:
        device = root / "devices" / "pci0000:00" / gpu["bus"]
        hwmon = device / "hwmon" / f"hwmon{gpu['card'][4:]}"
        hwmon.mkdir(parents=True, exist_ok=True)
        files = {
            device / "vendor": "0x1002",
            device / "gpu_busy_percent": str(gpu["util"]),
            device / "mem_busy_percent": "0",
            device / "mem_info_vram_used": str(gpu["vram_used"]),
            device / "mem_info_vram_total": str(gpu["vram_total"]),
            hwmon / "temp1_input": str(int(gpu["temp"] * 1000)),
            hwmon / "power1_average": str(int(gpu["power"] * 1_000_000)),
            hwmon / "power1_cap": str(int(gpu["cap"] * 1_000_000)),
        }
        for path, text in files.items():
            path.write_text(text + "\n")
        card = root / "class" / "drm" / gpu["card"]
        card.mkdir(parents=True, exist_ok=True)
        link = card / "device"
        if not link.is_symlink():
            link.symlink_to(os.path.relpath(device, card))
    if spec.get("kfd", True):
        write_kfd(root / "class" / "kfd" / "kfd", spec)
    else:
        shutil.rmtree(root / "class" / "kfd", ignore_errors=True)
    for folder in [root, *root.rglob("*")]:
        if folder.is_dir() and not folder.is_symlink():
            folder.chmod(0o755)


def kfd_gpu_id(index: int) -> int:
    """The KFD gpu_id of the GPU at `index` (bus order); real ones are hashes like 51545."""
    return 51545 + 1111 * index


def write_kfd(kfd: Path, spec: dict[str, Any]) -> None:
    """KFD topology nodes (node 0 the CPU) and proc/PID/vram_GPUID for the spec's processes."""
    cpu = kfd / "topology" / "nodes" / "0"
    cpu.mkdir(parents=True, exist_ok=True)
    (cpu / "gpu_id").write_text("0\n")
    (cpu / "properties").write_text("cpu_cores_count 64\nsimd_count 0\nlocation_id 0\ndomain 0\n")
    for index, gpu in enumerate(_ordered(spec)):
        domain, bus, rest = gpu["bus"].split(":")
        device, function = rest.split(".")
        location = int(bus, 16) << 8 | int(device, 16) << 3 | int(function)
        node = kfd / "topology" / "nodes" / str(index + 1)
        node.mkdir(parents=True, exist_ok=True)
        (node / "gpu_id").write_text(f"{kfd_gpu_id(index)}\n")
        (node / "properties").write_text(
            f"cpu_cores_count 0\nsimd_count 416\nlocation_id {location}\n"
            f"domain {int(domain, 16)}\ndrm_render_minor {128 + index}\n"
        )
    procs = kfd / "proc"
    shutil.rmtree(procs, ignore_errors=True)
    procs.mkdir(parents=True)
    for proc in spec.get("processes", []):
        folder = procs / str(proc["pid"])
        folder.mkdir(exist_ok=True)
        (folder / f"vram_{kfd_gpu_id(proc['gpu'])}").write_text(f"{proc['vram']}\n")


def main() -> None:
    """Entry point: `python fake_amd.py amd-smi|rocm-smi ARGS...`."""
    try:
        sys.exit(run(sys.argv[1], sys.argv[2:]))
    except BrokenPipeError:
        os._exit(0)


if __name__ == "__main__":
    main()
