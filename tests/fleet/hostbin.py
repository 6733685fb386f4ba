"""A simulated host's own commands: the nvidia-smi stand-in, and system folders without strays."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAKE_NVIDIA_SMI = Path(__file__).resolve().with_name("fake_nvidia_smi.py")
FAKE_AMD = Path(__file__).resolve().with_name("fake_amd.py")
SYSTEM_BIN_DIRS = ("/usr/local/bin", "/usr/bin", "/bin")
"""Folders whose commands a simulated host has (as links) on its PATH after its own bin folder."""
SIMULATED = ("nvidia-smi", "amd-smi", "rocm-smi")
"""Commands the fleet simulates: never taken from this machine (a stray one may sit in
/usr/local/bin), so a host without the stand-in really has none."""


def interpreters() -> list[str]:
    """Pythons the stand-in may run on: this one, then the system's (reachable by any user)."""
    found = [sys.executable]
    if "/usr/bin/python3" not in found:
        found.append("/usr/bin/python3")
    return found


def nvidia_smi_wrapper(script: Path = FAKE_NVIDIA_SMI, *args: str) -> str:
    """The sh script installed as `nvidia-smi` (or another stand-in) on a simulated host."""
    pythons = " ".join(shlex.quote(p) for p in interpreters())
    lead = "".join(f" {shlex.quote(a)}" for a in args)
    # The test venv's python may sit below /root, which a non-root login cannot enter:
    # fall back to the system python (the stand-in uses the standard library only).
    return (
        "#!/bin/sh\n"
        f"# Stand-in for a simulated test host (tests/fleet/{script.name}).\n"
        f"for py in {pythons}; do\n"
        '  if [ -x "$py" ]; then\n'
        f"    PYTHONPATH={shlex.quote(str(REPO))} "
        f'exec "$py" -S -B {shlex.quote(str(script))}{lead} "$@"\n'
        "  fi\n"
        "done\n"
        f'echo "{script.stem} stand-in: no usable python" >&2\n'
        "exit 127\n"
    )


def install_nvidia_smi(bin_dir: Path) -> Path:
    """Write the stand-in into `bin_dir` as an executable `nvidia-smi`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / "nvidia-smi"
    path.write_text(nvidia_smi_wrapper())
    path.chmod(0o755)
    return path


def build_sysbin_without(dest: Path, excluded_prefixes: tuple[str, ...] = SIMULATED) -> Path:
    """A folder of symlinks to every system command except those named `excluded_prefixes*`."""
    dest.mkdir(parents=True, exist_ok=True)
    for folder in SYSTEM_BIN_DIRS:
        source = Path(folder)
        if not source.is_dir():
            continue
        for entry in source.iterdir():
            link = dest / entry.name
            if entry.name.startswith(excluded_prefixes) or link.is_symlink() or link.exists():
                continue  # earlier folders win, as they would on PATH
            link.symlink_to(entry)
    return dest


def install_amd_tools(bin_dir: Path, tools: tuple[str, ...] = ("amd-smi", "rocm-smi")) -> None:
    """Write the amd-smi and/or rocm-smi stand-ins (tests/fleet/fake_amd.py) into `bin_dir`."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        path = bin_dir / tool
        path.write_text(nvidia_smi_wrapper(FAKE_AMD, tool))
        path.chmod(0o755)
