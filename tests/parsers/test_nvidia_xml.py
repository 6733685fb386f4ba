"""parse_nvidia_smi_xml on every real `nvidia-smi -q -x` capture, and on hostile XML."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from clustertop.model import MIB
from clustertop.parsers.nvidia_xml import parse_nvidia_smi_xml
from tests.parsers._fixtures import fixture_names, read_fixture


class First(NamedTuple):
    """Expected values of a capture's first GPU, read off the XML by eye."""

    gpus: int
    apps: int
    name: str
    uuid: str
    total_mib: int
    used_mib: int
    temp: float
    power: float | None
    limit: float | None
    util: float | None
    fan: float | None
    mig: str | None


EXPECTED = {
    "a100-sxm4-40gb-mig-drv510.xml": First(
        1, 0, "NVIDIA A100-SXM4-40GB", "GPU-27b94a00-ed54-5c24-b1fd-1054085de32a",
        40960, 38, 36, 66.92, 400.0, None, None, "Enabled",
    ),
    "a100-sxm4-80gb-mig-drv535.xml": First(
        1, 0, "NVIDIA A100-SXM4-80GB", "GPU-513536b6-7d19-9063-b049-1e69664bb298",
        81920, 50, 27, 67.03, 500.0, None, None, "Enabled",
    ),
    "a10g-drv515-1proc.xml": First(
        1, 1, "NVIDIA A10G", "GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94",
        23028, 22, 17, 25.58, 300.0, 0, 0, None,
    ),
    "dual-rtx-2070-drv590-v13.xml": First(
        2, 0, "NVIDIA GeForce RTX 2070", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab",
        8192, 1, 14, 9.23, 175.0, 0, 35, None,
    ),
    "dual-rtx-a5000-drv590-v13-2procs.xml": First(
        2, 2, "NVIDIA RTX A5000", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab",
        24564, 22437, 13, 6.41, 230.0, 0, 30, None,
    ),
    "gtx-1660-ti-drv418-graphics-device.xml": First(
        1, 0, "Graphics Device", "GPU-304a277d-3545-63b8-3a36-dfde3c992989",
        5912, 0, 40, 8.93, 130.0, 0, 0, None,
    ),
    "quadro-p2000-drv525.xml": First(
        1, 0, "Quadro P2000", "GPU-396caaed-39ca-3199-2e68-717cdb786ec6",
        5120, 1, 34, 4.61, 75.0, 0, 46, None,
    ),
    "quadro-p400-drv418.xml": First(
        1, 0, "Quadro P400", "GPU-8f750be4-dfbc-23b9-b33f-da729a536494",
        1998, 0, 33, None, None, 0, 34, None,
    ),
    "rtx-2080-windows-drv516-26procs.xml": First(
        1, 26, "NVIDIA GeForce RTX 2080", "GPU-fbd55ed4-1eec-4423-0a47-ad594b4333e3",
        8192, 862, 29, 14.5, 275.0, 2, 37, None,
    ),
    "rtx-3060-drv570.xml": First(
        1, 0, "NVIDIA GeForce RTX 3060", "GPU-d6889ff6-2523-9142-ca3c-1ca3f396a625",
        12288, 116, 42, 11.6, 170.0, 0, 0, None,
    ),
    "rtx-3060-laptop-drv515-1proc.xml": First(
        1, 1, "NVIDIA GeForce RTX 3060 Laptop GPU", "GPU-473d8d0f-d462-185c-6b36-6fc23e23e571",
        6144, 5, 45, 8.7, None, 0, None, None,
    ),
    "rtx-3080-drv595-v13.xml": First(
        1, 0, "NVIDIA GeForce RTX 3080", "GPU-19d6d965-2acc-f646-00f8-4c76979aabb4",
        10240, 9184, 27, 139.62, 320.0, 65, 0, None,
    ),
    "rtx-3080-windows-wddm-drv536.xml": First(
        1, 0, "NVIDIA GeForce RTX 3080", "GPU-19d6d965-2acc-f646-00f8-4c76979aabb4",
        10240, 1128, 31, 22.78, 336.0, 0, 0, None,
    ),
    "rtx-3090-drv525.xml": First(
        1, 0, "NVIDIA GeForce RTX 3090", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab",
        24576, 1, 37, 27.23, 200.0, 0, 0, None,
    ),
    "rtx-4000-sff-ada-drv595-v13-4procs.xml": First(
        1, 4, "NVIDIA RTX 4000 SFF Ada Generation", "GPU-37037c3f-65c8-ec4d-24a9-420204ad8026",
        20475, 3534, 38, 8.81, 70.0, 0, 30, None,
    ),
    "rtx-4090-drv535.xml": First(
        1, 0, "NVIDIA GeForce RTX 4090", "GPU-71d1acc2-662d-2166-bf9f-65272d2fc437",
        24564, 2, 40, 26.84, 450.0, 0, 0, None,
    ),
    "rtx-pro-6000-blackwell-maxq-drv590-v13.xml": First(
        1, 1, "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", 97887, 65720, 24, 3.97, 300.0, 0, 30, None,
    ),
    "tesla-p100-pcie-16gb-drv510.xml": First(
        1, 0, "Tesla P100-PCIE-16GB", "GPU-d3da8716-eaab-75db-efc1-60e88e1cd55e",
        16384, 0, 38, 26.16, 250.0, 0, None, None,
    ),
    "tesla-t4-drv515-2procs.xml": First(
        1, 2, "Tesla T4", "GPU-d37e67a5-91dd-3774-a5cb-99096249601a",
        15360, 1032, 40, 26.78, 70.0, 0, None, None,
    ),
}  # fmt: skip


def test_every_xml_fixture_has_expectations() -> None:
    names = {name.split("/", 1)[1] for name in fixture_names("nvidia-smi-xml", ".xml")}
    if not names:
        pytest.skip("real fixtures not present")
    # The repository ships only the permissively licensed captures; the shared set has more.
    assert names <= set(EXPECTED), f"captures without expectations: {names - set(EXPECTED)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_first_gpu_matches_the_capture(name: str) -> None:
    want = EXPECTED[name]
    gpus, apps = parse_nvidia_smi_xml(read_fixture(f"nvidia-smi-xml/{name}"))
    assert (len(gpus), len(apps)) == (want.gpus, want.apps)
    gpu = gpus[0]
    assert gpu.index == 0
    assert (gpu.name, gpu.uuid) == (want.name, want.uuid)
    assert gpu.memory_total == want.total_mib * MIB
    assert gpu.memory_used == want.used_mib * MIB
    assert gpu.temperature_c == want.temp
    assert (gpu.power_w, gpu.power_limit_w) == (want.power, want.limit)
    assert (gpu.util_percent, gpu.fan_percent, gpu.mig_mode) == (want.util, want.fan, want.mig)
    assert gpu.error is None
    assert {app.gpu_uuid for app in apps} <= {g.uuid for g in gpus}


def test_dual_gpu_capture_indexes_gpus_in_document_order() -> None:
    gpus, apps = parse_nvidia_smi_xml(
        read_fixture("nvidia-smi-xml/dual-rtx-a5000-drv590-v13-2procs.xml")
    )
    assert [g.index for g in gpus] == [0, 1]
    assert [g.bus_id for g in gpus] == ["00000000:81:00.0", "00000000:C1:00.0"]
    assert gpus[1].uuid == "GPU-12345678-aaaa-bbbb-cccc-0123456789cd"
    assert (gpus[1].temperature_c, gpus[1].power_w, gpus[1].memory_used) == (15, 13.6, 17253 * MIB)
    # One llama-server spans both cards: same pid, one entry per GPU.
    assert [(a.pid, a.gpu_uuid[-2:], a.memory_used) for a in apps] == [
        (100477, "ab", 22430 * MIB),
        (100477, "cd", 17246 * MIB),
    ]


def test_v13_power_falls_back_to_instant_when_average_is_na() -> None:
    gpus, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/dual-rtx-2070-drv590-v13.xml"))
    assert [g.power_w for g in gpus] == [9.23, 11.82]


def test_processes_keep_type_name_and_memory() -> None:
    _, apps = parse_nvidia_smi_xml(
        read_fixture("nvidia-smi-xml/rtx-4000-sff-ada-drv595-v13-4procs.xml")
    )
    assert [(a.pid, a.process_type, a.process_name, a.memory_used) for a in apps] == [
        (1842, "G", "cosmic-comp", 410 * MIB),
        (3190, "G", "/usr/bin/code", 451 * MIB),
        (4937, "C", "python", 160 * MIB),
        (34626, "C+G", "/usr/lib/chromium/chromium", 183 * MIB),
    ]


def test_windows_processes_have_no_memory_and_may_have_no_name() -> None:
    gpus, apps = parse_nvidia_smi_xml(
        read_fixture("nvidia-smi-xml/rtx-2080-windows-drv516-26procs.xml")
    )
    assert all(app.memory_used is None for app in apps)
    assert apps[0].pid == 7724
    assert apps[0].process_name.endswith("\\PhoneExperienceHost.exe")
    nameless = next(app for app in apps if app.pid == 10808)
    assert nameless.process_name == ""
    assert gpus[0].memory_used == 862 * MIB


def test_ecc_counts_old_and_new_schemas() -> None:
    old, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/tesla-p100-pcie-16gb-drv510.xml"))
    new, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml"))
    consumer, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/rtx-4090-drv535.xml"))
    assert (old[0].ecc_uncorrected, new[0].ecc_uncorrected) == (0, 0)
    assert consumer[0].ecc_uncorrected is None  # N/A on GeForce


def test_nonzero_uncorrected_ecc_is_summed() -> None:
    text = read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml")
    volatile = text.index("<volatile>")
    head, tail = text[:volatile], text[volatile:]
    tail = tail.replace("<dram_uncorrectable>0<", "<dram_uncorrectable>3<", 1)
    tail = tail.replace("<sram_uncorrectable>0<", "<sram_uncorrectable>2<", 1)
    gpus, _ = parse_nvidia_smi_xml(head + tail)
    assert gpus[0].ecc_uncorrected == 5


def test_lost_gpu_reported_in_xml_becomes_gpu_error() -> None:
    text = read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml")
    text = text.replace(
        "<product_name>Tesla T4</product_name>", "<product_name>Unknown Error</product_name>"
    )
    gpus, _ = parse_nvidia_smi_xml(text)
    assert gpus[0].error == "Unknown Error"
    assert gpus[0].name == ""


def test_no_gpu_document_gives_nothing() -> None:
    assert parse_nvidia_smi_xml(
        '<?xml version="1.0" ?>\n<nvidia_smi_log>\n</nvidia_smi_log>\n'
    ) == ([], [])


def test_entity_declarations_are_refused() -> None:
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log [\n<!ENTITY a "aaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        "<nvidia_smi_log><gpu><product_name>&b;</product_name></gpu></nvidia_smi_log>"
    )
    with pytest.raises(ValueError, match="entities"):
        parse_nvidia_smi_xml(bomb)


def test_external_entity_is_refused() -> None:
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<nvidia_smi_log><gpu><product_name>&x;</product_name></gpu></nvidia_smi_log>"
    )
    with pytest.raises(ValueError):
        parse_nvidia_smi_xml(xxe)


def test_truncated_output_raises_value_error() -> None:
    text = read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml")
    with pytest.raises(ValueError, match="malformed"):
        parse_nvidia_smi_xml(text[: len(text) // 2])


@pytest.mark.parametrize("garbage", ["", "NVIDIA-SMI has failed", "<html></html>", "\x00\x01"])
def test_garbage_raises_value_error(garbage: str) -> None:
    with pytest.raises(ValueError):
        parse_nvidia_smi_xml(garbage)


def test_hostile_process_name_is_returned_verbatim_as_data() -> None:
    text = read_fixture("nvidia-smi-xml/tesla-t4-drv515-2procs.xml")
    text = text.replace(
        "<process_name>python</process_name>", "<process_name>[red]x&lt;/b&gt;, y</process_name>"
    )
    _, apps = parse_nvidia_smi_xml(text)
    assert apps[1].process_name == "[red]x</b>, y"
