"""A MIG sample (`-L` + `-q -x`, real captures) applied to the GPUs and processes of a host."""

from __future__ import annotations

from clustertop.model import MIB, Gpu, GpuProcess
from clustertop.model.mig import MigRef
from clustertop.parsers.mig_sample import MigReading, apply_mig, parse_mig_sample, parse_probe_mig
from tests.parsers._fixtures import read_fixture

UUID = "GPU-513536b6-7d19-9063-b049-1e69664bb298"
LISTING = f"""GPU 0: NVIDIA A100-SXM4-80GB (UUID: {UUID})
  MIG 1g.20gb     Device  0: (UUID: MIG-a)
  MIG 1g.20gb     Device  1: (UUID: MIG-b)
  MIG 1g.20gb     Device  2: (UUID: MIG-c)
  MIG 1g.20gb     Device  3: (UUID: MIG-d)
"""
XML = read_fixture("nvidia-smi-xml/a100-sxm4-80gb-mig-drv535.xml").replace(
    "<processes />",
    "<processes><process_info><gpu_instance_id>5</gpu_instance_id>"
    "<compute_instance_id>0</compute_instance_id><pid>42</pid><type>C</type>"
    "<process_name>python</process_name><used_memory>100 MiB</used_memory>"
    "</process_info></processes>",
)


def _gpu(mig_mode: str | None = "Enabled", uuid: str = UUID) -> Gpu:
    return Gpu(
        0,
        uuid,
        "NVIDIA A100-SXM4-80GB",
        None,
        50 * MIB,
        80 * 1024 * MIB,
        27.0,
        67.0,
        500.0,
        mig_mode=mig_mode,
    )


def _proc(pid: int, uuid: str = UUID) -> GpuProcess:
    return GpuProcess(pid, 0, uuid, 100 * MIB)


def test_sample_gives_instances_and_process_instances() -> None:
    reading = parse_mig_sample(LISTING, XML)
    assert reading.error is None
    gpus, procs = apply_mig([_gpu()], [_proc(42), _proc(43)], reading)
    assert [(i.gpu_instance_id, i.profile, i.uuid) for i in gpus[0].mig_instances] == [
        (3, "1g.20gb", "MIG-a"),
        (4, "1g.20gb", "MIG-b"),
        (5, "1g.20gb", "MIG-c"),
        (6, "1g.20gb", "MIG-d"),
    ]
    assert procs[0].mig == MigRef(5, 0, "MIG-c")
    assert procs[1].mig is None  # started after the sample: its instance is unknown


def test_nvidia_smi_error_instead_of_xml_is_the_gpus_mig_error() -> None:
    reading = parse_mig_sample("", "Failed to initialize NVML: Insufficient Permissions\n")
    assert reading.error == "Failed to initialize NVML: Insufficient Permissions"
    gpus, _ = apply_mig([_gpu()], [], reading)
    assert gpus[0].mig_instances == ()
    assert gpus[0].mig_error == "Failed to initialize NVML: Insufficient Permissions"
    assert gpus[0].memory_total == 80 * 1024 * MIB  # the GPU's own figures stay


def test_truncated_xml_is_an_error_not_a_guess() -> None:
    reading = parse_mig_sample(LISTING, XML[: len(XML) // 2])
    assert reading.error is not None and reading.error.startswith("malformed nvidia-smi XML")


def test_no_sample_yet_and_gpus_without_mig() -> None:
    gpus, _ = apply_mig([_gpu(), _gpu("Disabled", "GPU-other")], [], None)
    assert gpus[0].mig_error == "MIG devices not read yet"
    assert gpus[1].mig_error is None and gpus[1].mig_instances == ()
    plain = [_gpu(None)]
    assert apply_mig(plain, [_proc(1)], MigReading()) == (plain, [_proc(1)])


def test_probe_part_splits_listing_and_xml() -> None:
    reading = parse_probe_mig(f"{LISTING}@xml\n{XML}", 0)
    assert reading.error is None and len(reading.gpus[0].mig_instances) == 4
    assert reading.gpus[0].mig_instances[0].uuid == "MIG-a"
    failed = parse_probe_mig("No devices were found\n@xml\nNo devices were found\n", 6)
    assert failed.error == "No devices were found"
    assert parse_probe_mig("garbage", 0).error == "MIG sample without its XML part: garbage"
