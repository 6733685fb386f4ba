"""The stand-in nvidia-smi's MIG output: `-q -x` and `-L` replayed from the real MIG captures.

A spec GPU entry with `"mig": {}` (optional "profile": a name for `-L`) is a MIG GPU: `-q -x`
prints the real A100-SXM4-80GB capture's `<gpu>` element (4 MIG devices, GI 3-6) with this GPU's
UUID, bus ID and processes; `-L` prints the real 8x H100 listing's MIG lines for it (their UUIDs,
one per MIG device of the XML). A process entry's "gi"/"ci" put it in an instance, as
`<process_info>` does; its memory is added to that instance's used memory. Other GPUs print the
real A10G capture's `<gpu>` element.
"""

from __future__ import annotations

import functools
import re
from html import escape
from typing import TYPE_CHECKING

from tests.realdata import fixture

if TYPE_CHECKING:
    from tests.fleet.fake_gpu_state import FakeWorld, Gpu, GpuProcess

MIG_XML = "nvidia-smi-xml/a100-sxm4-80gb-mig-drv535.xml"
PLAIN_XML = "nvidia-smi-xml/a10g-drv515-1proc.xml"
MIG_LIST = "nvidia-smi-text/h100x8-mig-list-L.txt"

_GPU_ELEMENT = re.compile(r"(?s)^(?P<indent>[ \t]*)<gpu id=.*?</gpu>\n", re.MULTILINE)
_PROCESSES = re.compile(r"(?s)<processes\s*/>|<processes>.*?</processes>")
_MIG_DEVICE = re.compile(r"(?s)<mig_device>.*?</mig_device>")
_MIG_LINE = re.compile(r"^\s+MIG (\S+)(\s+Device\s+\d+: \(UUID: MIG-[^)]+\))$")


@functools.lru_cache(maxsize=4)
def _capture(relative: str) -> str:
    return fixture(relative).read_text()


def _parts(relative: str) -> tuple[str, str, str]:
    """(text before the first <gpu>, that <gpu> element, text after the last </gpu>)."""
    text = _capture(relative)
    found = list(_GPU_ELEMENT.finditer(text))
    return text[: found[0].start()], found[0].group(0), text[found[-1].end() :]


def _process_info(proc: GpuProcess, indent: str) -> str:
    gi = "N/A" if proc.gi is None else str(proc.gi)
    ci = "N/A" if proc.ci is None else str(proc.ci)
    inner = indent + "    "
    return (
        f"{indent}<process_info>\n"
        f"{inner}<gpu_instance_id>{gi}</gpu_instance_id>\n"
        f"{inner}<compute_instance_id>{ci}</compute_instance_id>\n"
        f"{inner}<pid>{proc.pid}</pid>\n"
        f"{inner}<type>C</type>\n"
        f"{inner}<process_name>{escape(proc.process_name, quote=False)}</process_name>\n"
        f"{inner}<used_memory>{proc.used_mib} MiB</used_memory>\n"
        f"{indent}</process_info>\n"
    )


def _with_processes(element: str, processes: list[GpuProcess]) -> str:
    indent = re.search(r"\n([ \t]*)<processes", element)
    pad = indent.group(1) if indent else "\t\t"
    body = "".join(_process_info(p, pad + "    ") for p in processes)
    return _PROCESSES.sub(lambda _: f"<processes>\n{body}{pad}</processes>", element, count=1)


def _device_memory(device: str, processes: list[GpuProcess]) -> str:
    gi = re.search(r"<gpu_instance_id>(\d+)</gpu_instance_id>", device)
    mine = [p.used_mib for p in processes if gi is not None and p.gi == int(gi.group(1))]
    if not mine:
        return device
    used = re.search(r"<fb_memory_usage>.*?<used>(\d+) MiB</used>", device, re.DOTALL)
    base = int(used.group(1)) if used else 0
    return re.sub(
        r"(<fb_memory_usage>.*?<used>)\d+ MiB",
        lambda m: f"{m.group(1)}{base + sum(mine)} MiB",
        device,
        count=1,
        flags=re.DOTALL,
    )


def gpu_element(gpu: Gpu, processes: list[GpuProcess]) -> str:
    """One GPU's `<gpu>` element from the real capture, made this GPU's."""
    _, element, _ = _parts(MIG_XML if gpu.mig is not None else PLAIN_XML)
    element = re.sub(r'<gpu id="[^"]*">', f'<gpu id="{gpu.bus_id}">', element, count=1)
    element = re.sub(r"<uuid>[^<]*</uuid>", f"<uuid>{gpu.uuid}</uuid>", element, count=1)
    element = _MIG_DEVICE.sub(lambda m: _device_memory(m.group(0), processes), element)
    return _with_processes(element, processes)


def xml_lines(world: FakeWorld, gpus: list[Gpu]) -> list[str]:
    """`nvidia-smi -q -x` for the selected GPUs."""
    head, _, tail = _parts(MIG_XML)
    head = re.sub(
        r"<attached_gpus>\d+</attached_gpus>",
        f"<attached_gpus>{len(world.gpus)}</attached_gpus>",
        head,
    )
    body = "".join(
        gpu_element(gpu, [p for p in world.processes if p.gpu == gpu.index]) for gpu in gpus
    )
    return (head + body + tail).splitlines()


def _listed_mig_lines(index: int) -> list[str]:
    """The real listing's MIG lines under its `GPU <index>:` line (GPU 0's past its 8 GPUs)."""
    blocks: list[list[str]] = []
    for line in _capture(MIG_LIST).splitlines():
        if line.startswith("GPU "):
            blocks.append([])
        elif blocks and line.strip():
            blocks[-1].append(line)
    return blocks[index % len(blocks)]


def mig_list_lines(gpu: Gpu) -> list[str]:
    """The `-L` MIG lines of a MIG GPU: one per MIG device of its `-q -x` element."""
    count = len(_MIG_DEVICE.findall(_parts(MIG_XML)[1]))
    profile = (gpu.mig or {}).get("profile")
    lines = _listed_mig_lines(gpu.index)[:count]
    if not profile:
        return lines
    return [_MIG_LINE.sub(lambda m: f"  MIG {profile}{m.group(2)}", line) for line in lines]
