"""The plain `nvidia-smi` tables (GPUs, "MIG devices:", processes) against every real capture."""

from __future__ import annotations

import re

import pytest

from clustertop.model import MIB
from clustertop.parsers.mig_sample import parse_probe_mig, table_mig_reading
from clustertop.parsers.nvidia_text_mig import parse_nvidia_smi_table
from tests.parsers._fixtures import fixture_names, read_fixture

H100_MIG = "nvidia-smi-text/h100-mig-load-processes-drv590.txt"
H200_MIG = "nvidia-smi-text/h200-mig-idle-drv590.txt"
TABLES = [
    "nvidia-smi-text/2x-rtx4090-drv580-processes.txt",
    "nvidia-smi-text/8x-a100-sxm4-drv450.txt",
    "nvidia-smi-text/geforce-truncated-name-drv525.txt",
    "nvidia-smi-text/h100-idle-no-processes-drv590.txt",
    H100_MIG,
    "nvidia-smi-text/h100-nvl-drv575-exclusive-process.txt",
    "nvidia-smi-text/h200-load-processes-drv590.txt",
    H200_MIG,
    "nvidia-smi-text/l40s-idle-drv595.txt",
    "nvidia-smi-text/rtx-2080-super-linux-drv610-idle.txt",
    "nvidia-smi-text/rtx-2080-super-windows-wddm-drv591-idle.txt",
    "nvidia-smi-text/rtx-2080-super-windows-wddm-drv610-load.txt",
    "nvidia-smi-text/rtx-4080-super-load-cg-processes-drv595.txt",
    "nvidia-smi-text/tesla-p40-drv440-legacy-layout.txt",
]
NOT_TABLES = [
    "nvidia-smi-text/h100x8-mig-list-L.txt",
    "nvidia-smi-text/topo-m-windows-drv610-ansi-escapes.txt",
    "nvidia-smi-text/version-drv610-deprecated-fields.txt",
    "errors/nvidia-smi-driver-not-loaded-oneline.txt",
    "errors/nvidia-smi-nvml-driver-library-mismatch.txt",
]
# `nvidia-smi -L` for the H100 of H100_MIG: the capture masks its UUID; the MIG UUIDs and the
# profiles are written for this test (3g.40gb, 2g.20gb, 1g.10gb as the table's sizes say).
LISTING = """GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000000)
  MIG 3g.40gb     Device  0: (UUID: MIG-00000000-0000-0000-0000-000000000001)
  MIG 2g.20gb     Device  1: (UUID: MIG-00000000-0000-0000-0000-000000000002)
  MIG 1g.10gb     Device  2: (UUID: MIG-00000000-0000-0000-0000-000000000003)
  MIG 1g.10gb     Device  3: (UUID: MIG-00000000-0000-0000-0000-000000000004)
"""


def test_the_lists_cover_every_text_capture() -> None:
    names = fixture_names("nvidia-smi-text")
    if not names:
        pytest.skip("no nvidia-smi-text captures here")
    assert sorted(names) == sorted(n for n in TABLES + NOT_TABLES if n.startswith("nvidia-smi-"))


@pytest.mark.parametrize("name", TABLES)
def test_every_captured_table_gives_its_gpus(name: str) -> None:
    reading = parse_nvidia_smi_table(read_fixture(name))
    assert reading.gpus and all(g.memory_total for g in reading.gpus)
    assert [g.index for g in reading.gpus] == list(range(len(reading.gpus)))
    mig = any(g.mig_instances for g in reading.gpus)
    assert mig == (name in (H100_MIG, H200_MIG))


@pytest.mark.parametrize("name", NOT_TABLES)
def test_other_outputs_are_a_clear_error(name: str) -> None:
    with pytest.raises(ValueError, match="no GPU table in nvidia-smi's output: "):
        parse_nvidia_smi_table(read_fixture(name))


def test_h100_mig_devices_and_processes_exactly() -> None:
    reading = parse_nvidia_smi_table(read_fixture(H100_MIG))
    [gpu] = reading.gpus
    assert (gpu.index, gpu.name, gpu.bus_id, gpu.mig_mode) == (
        0, "NVIDIA H100 80GB HBM3", "00000000:00:09.0", "Enabled")  # fmt: skip
    # Under MIG the GPU's utilisation is N/A: unknown, not 0.
    assert (gpu.util_percent, gpu.memory_used, gpu.memory_total) == (None, 11125 * MIB, 81559 * MIB)
    assert (gpu.temperature_c, gpu.power_w, gpu.power_limit_w) == (52.0, 432.0, 700.0)
    rows = [
        (i.device_index, i.gpu_instance_id, i.compute_instance_id, i.memory_used, i.memory_total,
         i.multiprocessor_count, i.util_percent)
        for i in gpu.mig_instances
    ]  # fmt: skip
    assert rows == [
        (0, 2, 0, 11091 * MIB, 40448 * MIB, 60, None),
        (1, 3, 0, 17 * MIB, 20096 * MIB, 32, None),
        (2, 9, 0, 9 * MIB, 9984 * MIB, 16, None),
        (3, 10, 0, 9 * MIB, 9984 * MIB, 16, None),
    ]
    apps = [(i, a.pid, a.gpu_instance_id, a.compute_instance_id, a.memory_used, a.process_name)
            for i, a in reading.apps]  # fmt: skip
    assert apps == [
        (0, 21180, 2, 0, 2296 * MIB, "/root/tools/memhog"),
        (0, 21181, 2, 0, 1272 * MIB, "/root/tools/memhog"),
        (0, 21198, 2, 0, 7484 * MIB, "./gpu_burn"),
    ]


def test_h200_two_compute_instances_of_one_gi_and_no_processes() -> None:
    reading = parse_nvidia_smi_table(read_fixture(H200_MIG))
    [gpu] = reading.gpus
    ids = [(i.device_index, i.gpu_instance_id, i.compute_instance_id, i.multiprocessor_count)
           for i in gpu.mig_instances]  # fmt: skip
    assert ids == [(0, 2, 0, 16), (1, 2, 1, 32), (2, 3, 0, 32), (3, 9, 0, 16), (4, 10, 0, 16)]
    # Compute instances of one GI show its memory.
    assert [i.memory_used for i in gpu.mig_instances[:2]] == [22 * MIB, 22 * MIB]
    assert reading.apps == []


def test_unreadable_cells_are_unknown_never_zero() -> None:
    text = read_fixture(H100_MIG)
    text = text.replace("11091MiB / 40448MiB", "[Insufficient Permissions]")
    text = re.sub(r"\d+MiB / 20096MiB", "N/A", text)
    text = text.replace("|   11125MiB /  81559MiB |", "|     N/A                |")
    reading = parse_nvidia_smi_table(text)
    [gpu] = reading.gpus
    assert (gpu.memory_used, gpu.memory_total) == (None, None)
    first, second = gpu.mig_instances[:2]
    assert (first.memory_used, first.error) == (None, "Insufficient Permissions")
    assert second.memory_used is None and second.gpu_instance_id == 3


def test_the_table_joined_onto_the_listing_gives_uuids_and_profiles() -> None:
    reading = table_mig_reading(LISTING, read_fixture(H100_MIG))
    assert reading.error is None
    [gpu] = reading.gpus
    assert gpu.uuid == "GPU-00000000-0000-0000-0000-000000000000"
    assert [(i.profile, i.uuid) for i in gpu.mig_instances][:2] == [
        ("3g.40gb", "MIG-00000000-0000-0000-0000-000000000001"),
        ("2g.20gb", "MIG-00000000-0000-0000-0000-000000000002"),
    ]
    assert {a.gpu_uuid for a in reading.apps} == {gpu.uuid}
    assert table_mig_reading("", read_fixture(H100_MIG)).error == (
        "nvidia-smi -L named no GPU to match the MIG devices table to"
    )


def test_the_probe_sample_falls_back_to_the_table_when_q_x_fails() -> None:
    refused = "Unable to query: Insufficient Permissions"
    sample = f"{LISTING}@xml\n{refused}\n@table\n{read_fixture(H100_MIG)}"
    reading = parse_probe_mig(sample, 4)
    assert reading.error is None and len(reading.gpus[0].mig_instances) == 4
    # Both failing: each says why.
    sample = f"{LISTING}@xml\n{refused}\n@table\nFailed to initialize NVML: Unknown Error\n"
    assert parse_probe_mig(sample, 4).error == (
        "Unable to query: Insufficient Permissions; nvidia-smi table: no GPU table in "
        "nvidia-smi's output: Failed to initialize NVML: Unknown Error"
    )
