"""MIG devices from real `nvidia-smi -L` and `-q -x` captures, their join, and bad MIG input."""

from __future__ import annotations

from clustertop.model import MIB, Gpu
from clustertop.model.mig import MigInstance, MigRef
from clustertop.parsers.nvidia_mig import join_mig, parse_gpu_list
from clustertop.parsers.nvidia_smi import apps_from_header_csv
from clustertop.parsers.nvidia_xml import parse_nvidia_smi_xml
from tests.parsers._fixtures import read_fixture


def test_list_l_h100x8_every_mig_device_with_profile_and_uuid() -> None:
    gpus, other = parse_gpu_list(read_fixture("nvidia-smi-text/h100x8-mig-list-L.txt"))
    assert other == []
    assert [g.index for g in gpus] == list(range(8))
    assert gpus[0].uuid == "GPU-63d1e50a-b952-d15c-0740-12bc14859142"
    assert gpus[0].name == "NVIDIA H100 80GB HBM3"
    assert [i.device_index for i in gpus[0].instances] == list(range(7))
    assert {i.profile for g in gpus for i in g.instances} == {"1g.10gb"}
    assert gpus[0].instances[0].uuid == "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3"
    assert gpus[1].instances[2].uuid == "MIG-d9705e92-0f55-5b3e-a130-b89c5f7fe698"
    assert sum(len(g.instances) for g in gpus) == 56


def test_list_l_mixed_profiles_old_uuid_form_and_garbage() -> None:
    text = (
        "GPU 0: A100-SXM4-40GB (UUID: GPU-aaa)\n"
        "  MIG 3g.20gb Device 0: (UUID: MIG-GPU-aaa/1/0)\n"
        "  MIG 1c.3g.20gb    Device  1: (UUID: MIG-bbb)\n"
        "  MIG [N/A]  Device  2: (UUID: MIG-ccc)\n"
        "Failed to initialize NVML: Insufficient Permissions\n"
        "GPU 1: NVIDIA H100 (UUID: GPU-ddd)\n"
    )
    gpus, other = parse_gpu_list(text)
    assert [(i.profile, i.uuid) for i in gpus[0].instances] == [
        ("3g.20gb", "MIG-GPU-aaa/1/0"),
        ("1c.3g.20gb", "MIG-bbb"),
    ]
    assert gpus[1].instances == ()
    assert other == [
        "MIG [N/A]  Device  2: (UUID: MIG-ccc)",
        "Failed to initialize NVML: Insufficient Permissions",
    ]


def test_list_l_mig_line_before_any_gpu_is_not_guessed() -> None:
    gpus, other = parse_gpu_list("  MIG 1g.10gb     Device  0: (UUID: MIG-x)\n")
    assert gpus == [] and other == ["MIG 1g.10gb     Device  0: (UUID: MIG-x)"]


def test_xml_a100_80gb_mig_devices() -> None:
    gpus, apps = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/a100-sxm4-80gb-mig-drv535.xml"))
    (gpu,) = gpus
    assert apps == []
    assert gpu.mig_error is None
    assert [
        (i.device_index, i.gpu_instance_id, i.compute_instance_id) for i in gpu.mig_instances
    ] == [
        (0, 3, 0),
        (1, 4, 0),
        (2, 5, 0),
        (3, 6, 0),
    ]
    first = gpu.mig_instances[0]
    assert (first.memory_used, first.memory_total) == (12 * MIB, 19968 * MIB)
    assert first.multiprocessor_count == 14
    assert first.profile is None and first.uuid is None  # only `-L` names those


def test_xml_a100_40gb_mig_devices() -> None:
    gpus, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/a100-sxm4-40gb-mig-drv510.xml"))
    instances = gpus[0].mig_instances
    assert [
        (i.gpu_instance_id, i.memory_used, i.memory_total, i.multiprocessor_count)
        for i in instances
    ] == [
        (1, 19 * MIB, 19968 * MIB, 42),
        (2, 19 * MIB, 19968 * MIB, 42),
    ]


def test_xml_without_mig_has_no_instances_and_no_error() -> None:
    gpus, apps = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/a10g-drv515-1proc.xml"))
    assert gpus[0].mig_instances == () and gpus[0].mig_error is None
    assert (apps[0].gpu_instance_id, apps[0].compute_instance_id) == (None, None)  # "N/A"
    old, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/quadro-p400-drv418.xml"))
    assert old[0].mig_instances == () and old[0].mig_error is None  # driver without MIG


def _xml(mig_devices: str, processes: str = "") -> str:
    return (
        "<nvidia_smi_log><gpu id='00000000:01:00.0'><product_name>A100</product_name>"
        "<uuid>GPU-1</uuid><mig_mode><current_mig>Enabled</current_mig></mig_mode>"
        f"{mig_devices}<processes>{processes}</processes></gpu></nvidia_smi_log>"
    )


def test_xml_insufficient_permissions_in_place_of_devices() -> None:
    gpus, _ = parse_nvidia_smi_xml(_xml("<mig_devices>[Insufficient Permissions]</mig_devices>"))
    assert gpus[0].mig_instances == ()
    assert gpus[0].mig_error == "MIG devices not readable: Insufficient Permissions"
    assert gpus[0].error is None  # the GPU itself still reads


def test_xml_mig_devices_none_text_is_no_instances() -> None:
    gpus, _ = parse_nvidia_smi_xml(_xml("<mig_devices>None</mig_devices>"))
    assert gpus[0].mig_instances == () and gpus[0].mig_error is None


def test_xml_na_ids_and_memory_never_become_numbers() -> None:
    device = (
        "<mig_device><index>0</index><gpu_instance_id>[N/A]</gpu_instance_id>"
        "<compute_instance_id>[Insufficient Permissions]</compute_instance_id>"
        "<fb_memory_usage><total>[N/A]</total><used>N/A</used></fb_memory_usage></mig_device>"
    )
    process = (
        "<process_info><gpu_instance_id>[Insufficient Permissions]</gpu_instance_id>"
        "<compute_instance_id>N/A</compute_instance_id><pid>7</pid><type>C</type>"
        "<process_name>python</process_name><used_memory>[N/A]</used_memory></process_info>"
    )
    gpus, apps = parse_nvidia_smi_xml(_xml(f"<mig_devices>{device}</mig_devices>", process))
    (instance,) = gpus[0].mig_instances
    assert instance == MigInstance(0, None, None, error="MIG IDs not readable: N/A")
    assert (apps[0].pid, apps[0].gpu_instance_id, apps[0].memory_used) == (7, None, None)


def test_xml_process_gi_ci() -> None:
    process = (
        "<process_info><gpu_instance_id>2</gpu_instance_id><compute_instance_id>0"
        "</compute_instance_id><pid>21198</pid><type>C</type><process_name>./gpu_burn"
        "</process_name><used_memory>7484 MiB</used_memory></process_info>"
    )
    _, apps = parse_nvidia_smi_xml(_xml("", process))
    assert (apps[0].gpu_instance_id, apps[0].compute_instance_id) == (2, 0)


def test_join_list_onto_xml_by_device_index() -> None:
    gpus, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/a100-sxm4-80gb-mig-drv535.xml"))
    listing, _ = parse_gpu_list(
        "GPU 0: NVIDIA A100-SXM4-80GB (UUID: GPU-513536b6-7d19-9063-b049-1e69664bb298)\n"
        "  MIG 1g.10gb     Device  0: (UUID: MIG-a)\n"
        "  MIG 1g.10gb     Device  1: (UUID: MIG-b)\n"
        "  MIG 1g.10gb     Device  3: (UUID: MIG-d)\n"
    )
    (gpu,) = join_mig(gpus, listing)
    assert [(i.gpu_instance_id, i.profile, i.uuid) for i in gpu.mig_instances] == [
        (3, "1g.10gb", "MIG-a"),
        (4, "1g.10gb", "MIG-b"),
        (5, None, None),  # not listed: left unknown, never borrowed from a neighbour
        (6, "1g.10gb", "MIG-d"),
    ]
    assert gpu.mig_instances[0].label == "1g.10gb GI 3/CI 0"


def test_join_list_only_and_disabled_gpu() -> None:
    listing, _ = parse_gpu_list(read_fixture("nvidia-smi-text/h100x8-mig-list-L.txt"))
    plain = Gpu(
        0, "GPU-63d1e50a-b952-d15c-0740-12bc14859142", "H100", None, None, None, None, None, None
    )
    off = Gpu(
        1,
        "GPU-7e7d2a20-56b8-3220-e75c-1f3185864bda",
        "H100",
        None,
        None,
        None,
        None,
        None,
        None,
        mig_mode="Disabled",
    )
    joined = join_mig([plain, off], listing)
    assert len(joined[0].mig_instances) == 7 and joined[1].mig_instances == ()


def test_compute_apps_gi_ci_columns_when_present() -> None:
    real = apps_from_header_csv(read_fixture("nvidia-smi-csv/h100-mig-load-compute-apps.csv"))
    assert [(a.pid, a.gpu_instance_id) for a in real] == [
        (21180, None),
        (21181, None),
        (21198, None),
    ]
    with_ids = apps_from_header_csv(
        "gpu_uuid, pid, gpu_instance_id, compute_instance_id, used_gpu_memory [MiB]\n"
        "GPU-1, 5, 2, 0, 100 MiB\nGPU-1, 6, [N/A], [Insufficient Permissions], 1 MiB\n"
    )
    assert [(a.pid, a.gpu_instance_id, a.compute_instance_id) for a in with_ids] == [
        (5, 2, 0),
        (6, None, None),
    ]


def test_instance_runs_matches_by_uuid_or_ids() -> None:
    instance = MigInstance(1, 3, 0, profile="1g.10gb", uuid="MIG-a")
    assert instance.runs(MigRef(3, 0)) and instance.runs(MigRef(None, None, "MIG-a"))
    assert not instance.runs(MigRef(3, 1)) and not instance.runs(None)
    assert not instance.runs(MigRef(None, None, "MIG-b"))
