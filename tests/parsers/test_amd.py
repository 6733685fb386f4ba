"""AMD parsers against the real amd-smi and rocm-smi captures, and every quirk they show."""

from __future__ import annotations

import json

import pytest

from clustertop.model import MIB
from clustertop.parsers.amd_smi import AmdProcess, parse_metric, parse_processes, parse_static
from clustertop.parsers.amd_sysfs import (
    KfdProcess,
    kfd_bus_id,
    parse_kfd_lines,
    parse_sysfs_lines,
    sysfs_facts,
)
from clustertop.parsers.amd_values import (
    AmdGpuFacts,
    amd_bytes,
    amd_gpus,
    json_document,
    merge_facts,
    quantity,
)
from clustertop.parsers.rocm_smi import parse_rocm_smi
from tests.parsers._fixtures import read_fixture

BANNER = (
    "WARNING: User is missing the following required groups: render, video. "
    "Please add user to these groups.\n"
)


def test_rocm_smi_mi100x4_every_card() -> None:
    facts = parse_rocm_smi(read_fixture("amd/rocm-smi-json-mi100x4-rocm6.0.2.json"))
    gpus = amd_gpus(facts)
    assert [g.bus_id for g in gpus] == [
        "0000:83:00.0",
        "0000:a3:00.0",
        "0000:c3:00.0",
        "0000:e3:00.0",
    ]
    assert [g.uuid for g in gpus] == [g.bus_id for g in gpus]
    first = gpus[0]
    assert (first.index, first.vendor, first.name) == (0, "amd", "Arcturus GL-XL [Instinct MI100]")
    assert first.util_percent == 0.0
    assert (first.memory_used, first.memory_total) == (6750208, 34342961152)
    assert (first.temperature_c, first.power_w, first.power_limit_w) == (53.0, 36.0, 290.0)
    assert [g.power_w for g in gpus] == [36.0, 44.0, 43.0, 39.0]
    assert first.memory_util_percent == 0.0


def test_rocm_smi_rx6700xt_newer_key_names() -> None:
    (facts,) = parse_rocm_smi(read_fixture("amd/rocm-smi-json-rx6700xt-rocm6.1.2.json"))
    # "Device Name" and "Card Series" (capital S), "GPU Memory Read/Write Activity (%)"; the
    # clock-level dumps ("0": "2.5GT/s x1") are passed over.
    assert facts.name == "Navi 22 [Radeon RX 6700/6700 XT / 6800M]"
    assert (facts.bus_id, facts.util_percent, facts.memory_util_percent) == (
        "0000:07:00.0",
        0.0,
        0.0,
    )
    assert (facts.memory_used, facts.memory_total) == (1572745216, 12868124672)
    assert (facts.temperature_c, facts.power_w, facts.power_limit_w) == (45.0, 6.0, 211.0)


def test_rocm_smi_mi50_old_keys_and_fan() -> None:
    (facts,) = parse_rocm_smi(read_fixture("amd/rocm-smi-json-mi50-32gb-vega20-2021.json"))
    assert facts.name == "Radeon Instinct MI50 32GB"
    assert (facts.fan_percent, facts.power_w, facts.temperature_c) == (0.0, 26.0, 36.0)
    assert facts.memory_used == 10850304


def test_rocm_smi_compact_line_without_bus() -> None:
    text = read_fixture("amd/rocm-smi-json-compact-showtemp-showuse-showpower-vram-rx7900xtx.json")
    (gpu,) = amd_gpus(parse_rocm_smi(text))
    assert (gpu.uuid, gpu.bus_id, gpu.name) == ("amd-card0", None, "AMD GPU")
    assert (gpu.util_percent, gpu.temperature_c, gpu.power_w) == (0.0, 49.0, 19.0)
    assert (gpu.memory_used, gpu.memory_total) == (794341376, 25753026560)


def test_rocm_smi_card10_sorts_after_card2() -> None:
    cards = {f"card{n}": {"GPU use (%)": str(n)} for n in (10, 2, 1, 9)}
    cards["system"] = {"Driver version": "6.3.6"}  # type: ignore[dict-item]
    gpus = amd_gpus(parse_rocm_smi(json.dumps(cards)))
    assert [(g.index, g.uuid, g.util_percent) for g in gpus] == [
        (0, "amd-card1", 1.0),
        (1, "amd-card2", 2.0),
        (2, "amd-card9", 9.0),
        (3, "amd-card10", 10.0),
    ]


def test_bus_order_not_card_order() -> None:
    # A BMC or iGPU can be card0; GPUs are numbered in PCI bus order, as HIP counts them.
    cards = {
        "card10": {"PCI Bus": "0000:03:00.0", "GPU use (%)": "7"},
        "card2": {"PCI Bus": "0000:C3:00.0", "GPU use (%)": "9"},
    }
    gpus = amd_gpus(parse_rocm_smi(json.dumps(cards)))
    assert [(g.index, g.bus_id, g.util_percent) for g in gpus] == [
        (0, "0000:03:00.0", 7.0),
        (1, "0000:c3:00.0", 9.0),
    ]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ({"value": 10, "unit": "W"}, (10.0, "W")),
        ({"value": "N/A", "unit": "GB/s"}, (None, "GB/s")),
        (10, (10.0, "")),
        ("49.0", (49.0, "")),
        ("300 W", (300.0, "W")),
        ("N/A", (None, "")),
        (True, (None, "")),
        (float("nan"), (None, "")),
        ("(1402Mhz)", (None, "")),
        ([1, 2], (None, "")),
    ],
)
def test_quantity_every_shape(cell: object, expected: tuple[float | None, str]) -> None:
    assert quantity(cell) == expected


def test_amd_smi_units_are_binary() -> None:
    assert amd_bytes({"value": 32624, "unit": "MB"}) == 32624 * MIB
    assert amd_bytes({"value": 56000, "unit": "B"}) == 56000
    assert amd_bytes({"value": 1, "unit": "furlong"}) is None
    assert amd_bytes("N/A") is None


def test_amd_smi_static_mi210_gpu_data_wrapper() -> None:
    (facts,) = parse_static(
        read_fixture("amd/amd-smi-static-json-mi210-amdsmi-gpu_data-wrapper.json")
    )
    assert facts == AmdGpuFacts(
        tool_index=0, name="AMD Instinct MI210", memory_total=65520 * MIB, power_limit_w=300.0
    )


def test_amd_smi_metric_power_rocm61_bare_list() -> None:
    (facts,) = parse_metric(read_fixture("amd/amd-smi-metric-power-json-rocm6.1.0-changelog.json"))
    assert (facts.tool_index, facts.power_w, facts.util_percent) == (0, 10.0, None)


def test_amd_smi_metric_truncated_by_head_is_an_error() -> None:
    text = read_fixture("amd/amd-smi-metric-json-head40-truncated-r9700-amdsmi26.2.1.txt")
    with pytest.raises(ValueError, match=r"^amd-smi metric: unreadable JSON output"):
        parse_metric(text)


def test_amd_smi_metric_full_shape_behind_the_banner() -> None:
    metric = {
        "gpu_data": [
            {
                "gpu": 0,
                "usage": {
                    "gfx_activity": {"value": 100, "unit": "%"},
                    "umc_activity": {"value": 3, "unit": "%"},
                    "vcn_activity": [{"value": 0, "unit": "%"}, "N/A"],
                },
                "power": {"socket_power": {"value": 103, "unit": "W"}},
                "temperature": {"edge": "N/A", "hotspot": {"value": 79, "unit": "C"}},
                "mem_usage": {
                    "total_vram": {"value": 32624, "unit": "MB"},
                    "used_vram": {"value": 29777, "unit": "MB"},
                },
                "fan": {"usage": {"value": 38.82, "unit": "%"}},
                "ecc": {"total_uncorrectable_count": 0},
            }
        ]
    }
    (facts,) = parse_metric(BANNER + json.dumps(metric, indent=4))
    assert (facts.util_percent, facts.memory_util_percent, facts.power_w) == (100.0, 3.0, 103.0)
    assert (facts.temperature_c, facts.fan_percent, facts.ecc_uncorrected) == (79.0, 38.82, 0)
    assert (facts.memory_used, facts.memory_total) == (29777 * MIB, 32624 * MIB)


def test_amd_smi_process_r9700_vram_per_process() -> None:
    text = read_fixture("amd/amd-smi-process-json-r9700x2-amdsmi26.2.1-rocm7.2.0.json")
    processes = parse_processes(text)
    assert len(processes) == 8
    assert processes[2] == AmdProcess(0, 213952, "/usr/bin/python3.12", 21008920000)
    # mem_usage says 0 B for this one; vram_mem (what the table's VRAM_MEM shows) is the VRAM.
    assert processes[3] == AmdProcess(0, 213953, "/usr/bin/python3.12", 20503796000)
    assert [p.gpu_index for p in processes] == [0] * 4 + [1] * 4


def test_amd_smi_process_rocm62_mem_usage_only() -> None:
    text = read_fixture("amd/amd-smi-process-json-rocm6.2-changelog-2procs.json")
    assert parse_processes(text) == [
        AmdProcess(0, 420157, "TransferBench", 0),
        AmdProcess(0, 420315, "rvs", 0),
    ]


def test_amd_smi_process_none_running() -> None:
    text = BANNER + json.dumps(
        [{"gpu": 0, "process_list": [{"process_info": "No running processes detected"}]}]
    )
    assert parse_processes(text) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BANNER, "amd-smi static: no JSON in its output: WARNING: User is missing"),
        ("", "amd-smi static: no JSON in its output"),
        ('{"gpu_data": "N/A"}', "amd-smi static: JSON without a GPU list"),
        ('[{"gpu": "x"}]', "amd-smi static: no GPU entries in its JSON"),
    ],
)
def test_amd_smi_errors_are_clear(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        parse_static(text)


def test_json_document_skips_warning_lines() -> None:
    text = "SyntaxWarning: invalid escape sequence '\\w'\n" + BANNER + '[{"gpu": 0}]\n'
    assert json_document(text, "amd-smi") == [{"gpu": 0}]


def test_rocm_smi_not_an_object() -> None:
    with pytest.raises(ValueError, match=r"^rocm-smi: JSON is not an object of cards$"):
        parse_rocm_smi("[]")


def test_sysfs_lines_units_and_vendor() -> None:
    text = "\n".join(
        [
            "card1 vendor 0x1002",
            "card1 bus 0000:03:00.0",
            "card1 busy 42",
            "card1 vram_used 1073741824",
            "card1 vram_total 34342961152",
            "card1 temp 45000",
            "card1 power 103000000",
            "card1 cap 300000000",
            "card1 pwm 128",
            "card1 pwm_max 255",
            "card0 vendor 0x1a03",  # the BMC's ASPEED card
            "card0 busy 0",
            "card2 vendor 0x1002",
            "card2 bus 0000:43:00.0",
            "card2 busy 101",  # not a percentage: no reading rather than a wrong one
            "card2 power_input 92000000",
        ]
    )
    facts = sysfs_facts(parse_sysfs_lines(text))
    assert [f.card for f in facts] == ["card1", "card2"]
    first, second = facts
    assert (first.util_percent, first.memory_used, first.temperature_c) == (42.0, 1 << 30, 45.0)
    assert (first.power_w, first.power_limit_w) == (103.0, 300.0)
    assert first.fan_percent == pytest.approx(50.196, abs=0.001)
    assert (second.util_percent, second.power_w) == (None, 92.0)


def test_merge_sysfs_with_static_by_bus_id() -> None:
    tick = [AmdGpuFacts(card="card1", bus_id="0000:03:00.0", util_percent=42.0)]
    static = [
        AmdGpuFacts(tool_index=1, bus_id="0000:43:00.0", name="B"),
        AmdGpuFacts(tool_index=0, bus_id="0000:03:00.0", name="A", util_percent=1.0),
    ]
    merged = merge_facts(tick, static)
    assert [(f.bus_id, f.name, f.util_percent) for f in merged] == [
        ("0000:03:00.0", "A", 42.0),
        ("0000:43:00.0", "B", None),
    ]


def test_kfd_topology_and_per_process_vram() -> None:
    text = "\n".join(
        [
            "kfd gpu 0 0 0",  # the CPU node
            "kfd gpu 51545 33536 0",  # location_id 0x8300: bus 83, device 0, function 0
            "kfd gpu 52656 50187 1",  # 0xc40b: bus c4, device 1, function 3, domain 1
            "kfd vram 4242 51545 1073741824",
            "kfd vram 4242 52656 0",
            "kfd vram 77 99999 5",  # a GPU the topology does not list
            "kfd vram x 51545 5",
        ]
    )
    assert parse_kfd_lines(text) == [
        KfdProcess(4242, "0000:83:00.0", 1 << 30),
        KfdProcess(4242, "0001:c4:01.3", 0),
    ]
    assert kfd_bus_id("70000", "0") is None and kfd_bus_id("x", "0") is None


ODD_DOCUMENTS = [
    "null",
    "42",
    '"N/A"',
    '[null, 1, "x", []]',
    '{"gpu_data": [{"gpu": 0, "usage": "N/A", "power": [], "mem_usage": {"used_vram": {}}}]}',
    '[{"gpu": 0, "asic": [], "bus": {"bdf": 7}, "vram": {"size": {"value": [1]}}}]',
    '[{"gpu": -1}, {"gpu": true}, {"gpu": "1", "process_list": [{"process_info": []}]}]',
    '[{"gpu": 0, "process_list": [{"process_info": {"pid": "x"}}, {"pid": 5}, null]}]',
    '{"card0": "N/A", "card1": {"GPU use (%)": {"a": 1}, "PCI Bus": 3}, "cardX": {}}',
    '{"card0": {"VRAM Total Memory (B)": "-5", "GPU use (%)": "250"}}',
    "{" * 5000,
    "[" * 200_000,
]


@pytest.mark.parametrize("text", ODD_DOCUMENTS)
def test_odd_json_is_a_clear_error_or_no_value_never_a_crash(text: str) -> None:
    for parse in (parse_static, parse_metric, parse_processes, parse_rocm_smi):
        try:
            parsed = parse(text)
        except ValueError as exc:
            assert str(exc).startswith(("amd-smi", "rocm-smi"))
            continue
        assert isinstance(parsed, list)
        for item in parsed:
            for name in ("util_percent", "memory_util_percent", "fan_percent"):
                value = getattr(item, name, None)
                assert value is None or 0.0 <= value <= 100.0
            for name in ("memory_used", "memory_total", "vram_used"):
                value = getattr(item, name, None)
                assert value is None or value >= 0
