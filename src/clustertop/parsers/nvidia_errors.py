"""What went wrong when nvidia-smi printed no usable data, in words for the user."""

from __future__ import annotations

import re
from collections.abc import Callable

# Failures that make all of nvidia-smi's output useless. Patterns are anchored at a line start
# so that a process named like an error message (a CSV cell, never a line start) cannot fake one.
_NOT_INSTALLED = re.compile(
    r"^(?:.*: )?nvidia-smi: (?:command )?not found|^(?:.*: )?nvidia-smi: No such file"
    r"|command not found: nvidia-smi|is not recognized as an internal or external command",
    re.IGNORECASE | re.MULTILINE,
)
_DRIVER_NOT_LOADED = re.compile(
    r"^NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver", re.MULTILINE
)
_MISMATCH = re.compile(r"^Failed to initialize NVML: Driver/library version mismatch", re.M)
_LIBRARY_VERSION = re.compile(r"^NVML library version: *(\S+)", re.MULTILINE)
_NO_LIBRARY = re.compile(r"^NVIDIA-SMI couldn't find (libnvidia-ml\.so|nvml\.dll)", re.M)
_NVML_INIT = re.compile(r"^Failed to initialize NVML: *(.+)$", re.MULTILINE)
_NO_DEVICES = re.compile(r"^No devices were found", re.MULTILINE)
_GPU_LOST = re.compile(
    r"^(?:Unable to determine the device handle for GPU"
    r"|GPU [0-9A-Fa-f]+:[0-9A-Fa-f:.]+: GPU is lost)",
    re.IGNORECASE,
)
_ERRORISH = re.compile(
    r"error|fail|unable|not supported|invalid|denied|lost|^NVML|not found", re.IGNORECASE
)


def _mismatch(text: str) -> str:
    version = _LIBRARY_VERSION.search(text)
    detail = f", NVML library {version.group(1)}" if version else ""
    return f"NVML driver/library version mismatch (reboot or reload the nvidia module{detail})"


def _nvml_init(text: str) -> str:
    match = _NVML_INIT.search(text)
    return f"NVML failed to initialise: {match.group(1).strip() if match else 'unknown reason'}"


_FATAL: tuple[tuple[re.Pattern[str], Callable[[str], str]], ...] = (
    (
        _DRIVER_NOT_LOADED,
        lambda _: "NVIDIA driver not loaded (nvidia-smi could not communicate with the driver)",
    ),
    (_MISMATCH, _mismatch),
    (_NO_LIBRARY, lambda _: "NVIDIA driver library not found (libnvidia-ml.so missing)"),
    (_NVML_INIT, _nvml_init),
    (_NO_DEVICES, lambda _: "no NVIDIA GPU found (nvidia-smi: No devices were found)"),
)


def nvidia_smi_error(output: str, returncode: int) -> str | None:
    """None when `output` holds usable data; else a short, precise message for the user.

    Partial failures (one GPU lost, the others answering) return None: parse the rows with
    parse_gpu_query, whose second list carries the lost GPU's line. `returncode` 124 is read
    as timeout(1) having stopped a hung nvidia-smi.
    """
    text = output.strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if returncode == 127 or _NOT_INSTALLED.search(text):
        return "nvidia-smi not installed"
    for pattern, message in _FATAL:
        if pattern.search(text):
            return message(text)
    lost = [line for line in lines if _GPU_LOST.match(line)]
    if lost and len(lost) == len(lines):
        return "GPU lost: " + "; ".join(lost)
    if returncode == 0 or lost:
        return None
    if returncode == 124:
        return "nvidia-smi timed out (a GPU may have fallen off the bus)"
    reason = next((line for line in lines if _ERRORISH.search(line)), None)
    if reason is None:
        reason = lines[0] if lines else f"nvidia-smi failed (exit status {returncode})"
    return reason
