"""nvidia_smi_error: every real nvidia-smi failure capture, and the driver failures users meet."""

from __future__ import annotations

import pytest

from clustertop.parsers.nvidia_errors import nvidia_smi_error
from tests.parsers._fixtures import read_fixture

DRIVER_NOT_LOADED = "NVIDIA driver not loaded (nvidia-smi could not communicate with the driver)"
MISMATCH = "NVML driver/library version mismatch (reboot or reload the nvidia module)"


# The captures do not record exit codes except topo -m (255); nvidia-smi's documented codes
# are used: 9 driver not loaded, 18 library mismatch, 3/255 for the subcommand failures.
@pytest.mark.parametrize(
    ("name", "returncode", "message"),
    [
        ("nvidia-smi-driver-not-loaded-oneline.txt", 9, DRIVER_NOT_LOADED),
        ("nvidia-smi-nvml-driver-library-mismatch.txt", 18, MISMATCH),
        (
            "nvidia-smi-nvlink-s-links-inactive.txt",
            3,
            "NVML: Unable to retrieve Nvlink information as all links are inActive",
        ),
        (
            "nvidia-smi-nvlink-s-mig-not-supported.txt",
            3,
            "Nvlink queries are not supported for Devices in MIG mode",
        ),
        (
            "nvidia-smi-topo-m-windows-option-error.txt",
            255,
            "ERROR: Option -m is missing its value. Please run 'nvidia-smi -h' for help.",
        ),
    ],
)
def test_real_error_captures(name: str, returncode: int, message: str) -> None:
    assert nvidia_smi_error(read_fixture(f"errors/{name}"), returncode) == message


def test_fatal_messages_are_recognised_whatever_the_exit_code() -> None:
    text = read_fixture("errors/nvidia-smi-driver-not-loaded-oneline.txt")
    assert nvidia_smi_error(text, 0) == DRIVER_NOT_LOADED


def test_newer_drivers_split_the_driver_message_over_two_lines() -> None:
    text = (
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
        "Make sure that the latest NVIDIA driver is installed and\nrunning.\n\n"
    )
    assert nvidia_smi_error(text, 9) == DRIVER_NOT_LOADED


def test_mismatch_with_library_version_line() -> None:
    text = (
        "Failed to initialize NVML: Driver/library version mismatch\n"
        "NVML library version: 535.183\n"
    )
    assert nvidia_smi_error(text, 18) == (
        "NVML driver/library version mismatch (reboot or reload the nvidia module, "
        "NVML library 535.183)"
    )


@pytest.mark.parametrize(
    ("output", "returncode"),
    [
        ("sh: 1: nvidia-smi: not found\n", 127),
        ("bash: nvidia-smi: command not found\n", 127),
        ("", 127),
        ("zsh: command not found: nvidia-smi\n", 1),
        ("/bin/sh: nvidia-smi: not found\n", 127),
    ],
)
def test_not_installed(output: str, returncode: int) -> None:
    assert nvidia_smi_error(output, returncode) == "nvidia-smi not installed"


def test_other_nvml_initialisation_failures_keep_their_reason() -> None:
    assert nvidia_smi_error("Failed to initialize NVML: Unknown Error\n", 255) == (
        "NVML failed to initialise: Unknown Error"
    )
    assert nvidia_smi_error("Failed to initialize NVML: Insufficient Permissions\n", 4) == (
        "NVML failed to initialise: Insufficient Permissions"
    )


def test_missing_library_and_no_devices() -> None:
    text = (
        "NVIDIA-SMI couldn't find libnvidia-ml.so library in your system. Please make sure that "
        "the NVIDIA Display Driver is properly installed and present in your system.\n"
    )
    assert nvidia_smi_error(text, 12) == "NVIDIA driver library not found (libnvidia-ml.so missing)"
    assert nvidia_smi_error("No devices were found\n", 6) == (
        "no NVIDIA GPU found (nvidia-smi: No devices were found)"
    )


def test_every_gpu_lost() -> None:
    text = (
        "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error\n"
        "Unable to determine the device handle for GPU 0000:5E:00.0: GPU is lost.  "
        "Reboot the system to recover this GPU\n"
    )
    assert nvidia_smi_error(text, 15) == (
        "GPU lost: Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error; "
        "Unable to determine the device handle for GPU 0000:5E:00.0: GPU is lost.  "
        "Reboot the system to recover this GPU"
    )


def test_one_gpu_lost_among_good_rows_is_partial_data_not_an_error() -> None:
    text = (
        "0, GPU-a, NVIDIA H200, 100, 7, 32362, 143771, 52, 627.40, 700.00, [N/A], "
        "00000000:83:00.0, 0, Disabled\n"
        "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error\n"
    )
    assert nvidia_smi_error(text, 15) is None


def test_good_output_and_empty_success_are_not_errors() -> None:
    xml = read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml")
    assert nvidia_smi_error(xml, 0) is None
    assert nvidia_smi_error("", 0) is None


def test_process_named_like_an_error_cannot_fake_one() -> None:
    text = "GPU-a, 4242, 100, Failed to initialize NVML: Driver/library version mismatch\n"
    assert nvidia_smi_error(text, 0) is None


def test_timeout_and_unknown_failures() -> None:
    assert nvidia_smi_error("", 124) == "nvidia-smi timed out (a GPU may have fallen off the bus)"
    assert nvidia_smi_error("", 2) == "nvidia-smi failed (exit status 2)"
    assert nvidia_smi_error("something odd\nmore\n", 2) == "something odd"
