"""What the benchmark ran on: CPU, memory, kernel, tool versions, load."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not available ({exc.__class__.__name__})"
    text = (done.stdout + done.stderr).strip()
    return text.splitlines()[0] if text else f"exit status {done.returncode}"


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory() -> str:
    kib = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, value = line.partition(":")
        kib[name] = int(value.split()[0])
    swap = f"{kib['SwapTotal'] // 1024} MiB swap" if kib.get("SwapTotal") else "no swap"
    return (
        f"{kib['MemTotal'] // 1024} MiB total, {kib['MemAvailable'] // 1024} MiB available, {swap}"
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def describe() -> dict[str, str]:
    """Machine and software facts, label -> value."""
    venv_clush = Path(sys.executable).with_name("clush")
    return {
        "CPU": f"{os.cpu_count()} x {_cpu_model()}",
        "Memory": _memory(),
        "Kernel": _first_line(["uname", "-srvm"]),
        "OS": _first_line(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
        "OpenSSH": _first_line(["ssh", "-V"]),
        "pdsh": _first_line(["pdsh", "-V"]),
        "clush": _first_line([str(venv_clush) if venv_clush.exists() else "clush", "--version"]),
        "Python": sys.version.split()[0],
        "asyncssh": _version("asyncssh"),
        "textual": _version("textual"),
        "clustertop": _version("clustertop"),
    }
