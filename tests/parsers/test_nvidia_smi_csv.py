"""nvidia-smi CSV queries: the probe's headerless rows, ugly cells, and every real CSV capture."""

from __future__ import annotations

import pytest

from clustertop.model import MIB, Gpu
from clustertop.parsers.nvidia_smi import (
    APPS_QUERY_FIELDS,
    GPU_QUERY_FIELDS,
    GpuApp,
    apps_from_header_csv,
    gpus_from_header_csv,
    parse_apps_query,
    parse_gpu_query,
    parse_query_with_header,
)
from tests.parsers._fixtures import fixture_names, read_fixture

# The H200 of h200-load-allfields-drv590.csv, as the probe's query would print it.
H200_NOUNITS = (
    "0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H200, 100, 7, 32362, 143771, 52, "
    "627.40, 700.00, [N/A], 00000000:83:00.0, 0, Disabled"
)
H200_UNITS = (
    "0, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H200, 100 %, 7 %, 32362 MiB, "
    "143771 MiB, 52, 627.40 W, 700.00 W, [N/A], 00000000:83:00.0, 0, Disabled"
)
H200 = Gpu(
    index=0,
    uuid="GPU-00000000-0000-0000-0000-000000000000",
    name="NVIDIA H200",
    util_percent=100.0,
    memory_used=32362 * MIB,
    memory_total=143771 * MIB,
    temperature_c=52.0,
    power_w=627.40,
    power_limit_w=700.0,
    fan_percent=None,
    memory_util_percent=7.0,
    bus_id="00000000:83:00.0",
    ecc_uncorrected=0,
    mig_mode="Disabled",
)
# The MIG H100 of h100-mig-idle-allfields-drv590.csv: utilisation is [N/A] in MIG mode.
H100_MIG = (
    "1, GPU-00000000-0000-0000-0000-000000000000, NVIDIA H100 80GB HBM3, [N/A], [N/A], 59, "
    "81559, 42, 71.15, 700.00, [N/A], 00000000:00:09.0, 0, Enabled"
)
LOST = "Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error"


def test_query_fields_are_the_probe_contract() -> None:
    assert GPU_QUERY_FIELDS[:3] == ("index", "uuid", "name")
    assert len(GPU_QUERY_FIELDS) == 14
    assert APPS_QUERY_FIELDS == ("gpu_uuid", "pid", "used_memory", "process_name")


@pytest.mark.parametrize("row", [H200_NOUNITS, H200_UNITS], ids=["nounits", "units"])
def test_one_gpu_row_with_or_without_units(row: str) -> None:
    assert parse_gpu_query(row + "\n") == ([H200], [])


def test_mig_gpu_has_no_utilisation() -> None:
    (gpu,), errors = parse_gpu_query(H100_MIG)
    assert errors == []
    assert (gpu.index, gpu.util_percent, gpu.memory_util_percent) == (1, None, None)
    assert (gpu.memory_used, gpu.mig_mode) == (59 * MIB, "Enabled")


@pytest.mark.parametrize(
    "marker", ["[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "[GPU requires reset]"]
)
def test_missing_markers_become_none_never_zero(marker: str) -> None:
    row = H200_NOUNITS.replace("627.40", marker).replace("100,", f"{marker},", 1)
    (gpu,), errors = parse_gpu_query(row)
    assert errors == []
    assert (gpu.power_w, gpu.util_percent) == (None, None)
    assert gpu.temperature_c == 52.0


def test_device_handle_error_between_good_rows_is_reported_not_fatal() -> None:
    text = f"{H200_NOUNITS}\n{LOST}\n{H100_MIG}\n"
    gpus, errors = parse_gpu_query(text)
    assert [g.index for g in gpus] == [0, 1]
    assert errors == [LOST]


def test_truncated_row_is_an_error_line_and_later_rows_survive() -> None:
    cut = H200_NOUNITS[:60]
    gpus, errors = parse_gpu_query(f"{cut}\n{H100_MIG}\n")
    assert [g.name for g in gpus] == ["NVIDIA H100 80GB HBM3"]
    assert errors == [cut.strip()]


def test_row_naming_a_lost_gpu_carries_the_error() -> None:
    row = "2, [GPU is lost], [GPU is lost], " + ", ".join(["[GPU is lost]"] * 11)
    (gpu,), errors = parse_gpu_query(row)
    assert errors == []
    assert (gpu.index, gpu.uuid, gpu.error, gpu.memory_total) == (2, "", "GPU is lost", None)


def test_no_gpu_and_no_output() -> None:
    assert parse_gpu_query("") == ([], [])
    assert parse_gpu_query("No devices were found\n") == ([], ["No devices were found"])


@pytest.mark.parametrize(
    "garbage", ["<html>502 Bad Gateway</html>", "a,b,c", "x, " * 13 + "x", "\x1b[2J\x00"]
)
def test_garbage_never_crashes_and_is_reported(garbage: str) -> None:
    gpus, errors = parse_gpu_query(garbage)
    assert gpus == []
    assert errors == [garbage.strip()]


def test_windows_line_endings() -> None:
    gpus, errors = parse_gpu_query(f"{H200_NOUNITS}\r\n{H100_MIG}\r\n")
    assert (len(gpus), errors) == (2, [])
    assert gpus[1].mig_mode == "Enabled"


def test_custom_field_list_without_index_uses_row_order() -> None:
    text = "NVIDIA L40S, 46068, 0\nNVIDIA L40S, 46068, 1024\n"
    gpus, errors = parse_gpu_query(text, fields=("name", "memory.total", "memory.used"))
    assert errors == []
    assert [(g.index, g.memory_used) for g in gpus] == [(0, 0), (1, 1024 * MIB)]


def test_apps_rows() -> None:
    text = (
        "GPU-00000000-0000-0000-0000-000000000000, 21180, 2296, /root/tools/memhog\n"
        "GPU-00000000-0000-0000-0000-000000000000, 21198, 7484 MiB, ./gpu_burn\n"
    )
    assert parse_apps_query(text) == [
        GpuApp("GPU-00000000-0000-0000-0000-000000000000", 21180, 2296 * MIB, "/root/tools/memhog"),
        GpuApp("GPU-00000000-0000-0000-0000-000000000000", 21198, 7484 * MIB, "./gpu_burn"),
    ]


def test_process_names_with_commas_and_quotes_stay_whole() -> None:
    text = (
        'GPU-a, 10, 100, python train.py --layers=1,2,3, "x"\n'
        'GPU-b, 11, [N/A], "unterminated\n'
        "GPU-c, 12, 5, [red]boom[/red]\x1b[2J\n"
    )
    apps = parse_apps_query(text)
    assert [(a.gpu_uuid, a.pid, a.memory_used, a.process_name) for a in apps] == [
        ("GPU-a", 10, 100 * MIB, 'python train.py --layers=1,2,3, "x"'),
        ("GPU-b", 11, None, '"unterminated'),
        ("GPU-c", 12, 5 * MIB, "[red]boom[/red]\x1b[2J"),
    ]


def test_process_name_in_the_middle_of_a_custom_field_list() -> None:
    apps = parse_apps_query("7, a,b, 3\n", fields=("pid", "process_name", "used_gpu_memory"))
    assert [(a.pid, a.process_name, a.memory_used) for a in apps] == [(7, "a,b", 3 * MIB)]


def test_apps_skip_lines_that_are_not_rows() -> None:
    text = f"{LOST}\nGPU-a, notapid, 5, x\nGPU-a, 9, 5, ok\nGPU-a, 10\n"
    assert [a.pid for a in parse_apps_query(text)] == [9]
    assert parse_apps_query("") == []


# ---- header CSVs: every real capture in nvidia-smi-csv/ ------------------------------------

# file -> (GPUs, apps, first GPU: name, used MiB, total MiB, util, temp, power W, limit W, fan)
HEADER_EXPECTED = {
    "h100-mig-idle-allfields-drv590.csv": (
        1, 0, ("NVIDIA H100 80GB HBM3", 59, 81559, None, 42, 71.15, 700.0, None)),
    "h200-load-allfields-drv590.csv": (
        1, 0, ("NVIDIA H200", 32362, 143771, 100, 52, 627.40, 700.0, None)),
    "l40s-idle-allfields-drv595.csv": (
        1, 0, ("NVIDIA L40S", 0, 46068, 100, 63, 144.97, 350.0, None)),
    "rtx-4080-super-load-allfields-drv595.csv": (
        1, 0, ("NVIDIA GeForce RTX 4080 SUPER", 1474, 16376, 7, 46, 84.24, 320.0, 0)),
    "rtx-2080-super-windows-allfields-drv610.csv": (
        1, 0, ("NVIDIA GeForce RTX 2080 SUPER", 797, 8192, 0, 40, 39.25, 250.0, 38)),
    "rtx-2080-super-ubuntu2004-drv465.csv": (
        1, 0, ("NVIDIA GeForce RTX 2080 SUPER", 344, 7979, 0, 32, 30.37, 250.0, 38)),
    "rtx-2080-super-win10-drv466.csv": (
        1, 0, ("NVIDIA GeForce RTX 2080 SUPER", 856, 8192, 0, 35, 31.12, 250.0, 38)),
    "rtx-2080-super-windows-drv471.csv": (
        1, 0, ("NVIDIA GeForce RTX 2080 SUPER", 876, 8192, 2, 36, 32.70, 250.0, 38)),
    "tesla-p100-nounits.csv": (
        1, 0, ("Tesla P100-PCIE-16GB", 0, None, 0, 37, 28.16, None, None)),
    "h100-mig-load-compute-apps.csv": (0, 3, None),
    "h200-idle-compute-apps-header-only.csv": (0, 0, None),
    "h100-retired-pages.csv": (0, 0, None),
}  # fmt: skip


def test_every_csv_fixture_has_expectations() -> None:
    names = {name.split("/", 1)[1] for name in fixture_names("nvidia-smi-csv", ".csv")}
    if not names:
        pytest.skip("real fixtures not present")
    # The repository ships only the permissively licensed captures; the shared set has more.
    assert names <= set(HEADER_EXPECTED), (
        f"captures without expectations: {names - set(HEADER_EXPECTED)}"
    )


@pytest.mark.parametrize("name", sorted(HEADER_EXPECTED))
def test_header_csv_fixture(name: str) -> None:
    n_gpus, n_apps, first = HEADER_EXPECTED[name]
    text = read_fixture(f"nvidia-smi-csv/{name}")
    gpus, apps = gpus_from_header_csv(text), apps_from_header_csv(text)
    assert (len(gpus), len(apps)) == (n_gpus, n_apps)
    if first is None:
        return
    gpu = gpus[0]
    got = (gpu.name, gpu.memory_used, gpu.memory_total, gpu.util_percent, gpu.temperature_c)
    total = None if first[2] is None else first[2] * MIB
    assert got == (first[0], first[1] * MIB, total, first[3], first[4])
    assert (gpu.power_w, gpu.power_limit_w, gpu.fan_percent) == first[5:]
    assert gpu.index == 0


def test_allfields_header_keys_lose_their_units() -> None:
    (row,) = parse_query_with_header(read_fixture("nvidia-smi-csv/h200-load-allfields-drv590.csv"))
    assert len(row) == 212
    assert row["memory.used"] == "32362 MiB"
    assert row["clocks_event_reasons_counters.sw_power_cap"] == "0 us"
    assert row["hostname"] == "[N/A]"


def test_mig_and_windows_details_from_allfields() -> None:
    (mig,) = gpus_from_header_csv(read_fixture("nvidia-smi-csv/h100-mig-idle-allfields-drv590.csv"))
    assert (mig.mig_mode, mig.ecc_uncorrected, mig.bus_id) == ("Enabled", 0, "00000000:00:09.0")
    (win,) = gpus_from_header_csv(
        read_fixture("nvidia-smi-csv/rtx-2080-super-windows-allfields-drv610.csv")
    )
    assert (win.mig_mode, win.ecc_uncorrected, win.memory_util_percent) == (None, None, 10.0)


def test_compute_apps_capture() -> None:
    apps = apps_from_header_csv(read_fixture("nvidia-smi-csv/h100-mig-load-compute-apps.csv"))
    assert [(a.pid, a.process_name, a.memory_used) for a in apps] == [
        (21180, "/root/tools/memhog", 2296 * MIB),
        (21181, "/root/tools/memhog", 1272 * MIB),
        (21198, "./gpu_burn", 7484 * MIB),
    ]
    assert {a.gpu_uuid for a in apps} == {"GPU-00000000-0000-0000-0000-000000000000"}


def test_retired_pages_rows_read_as_plain_rows() -> None:
    rows = parse_query_with_header(read_fixture("nvidia-smi-csv/h100-retired-pages.csv"))
    assert [r["retired_pages.cause"] for r in rows] == ["Single Bit ECC", "Double Bit ECC"]
    assert rows[0]["retired_pages.address"] == "[N/A]"


def test_tesla_p100_nounits_has_no_trailing_newline_and_na_fan() -> None:
    text = read_fixture("nvidia-smi-csv/tesla-p100-nounits.csv")
    assert not text.endswith("\n")
    (gpu,) = gpus_from_header_csv(text)
    assert gpu.uuid == "GPU-ef1b2c9b-38d8-2090-2bd1-f567a3eb42a6"
    assert gpu.fan_percent is None


def test_header_csv_with_truncated_last_row() -> None:
    text = read_fixture("nvidia-smi-csv/h100-mig-load-compute-apps.csv")
    cut = text[: text.rindex("./gpu_burn") - 8]
    assert [a.pid for a in apps_from_header_csv(cut)] == [21180, 21181]
    assert parse_query_with_header("") == []
