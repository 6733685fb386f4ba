"""A host's MIG sample (`nvidia-smi -L` and `-q -x`) applied to its GPUs and GPU processes."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from clustertop.model import Gpu, GpuProcess
from clustertop.model.mig import MigRef
from clustertop.parsers.nvidia_mig import join_mig, parse_gpu_list
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.parsers.nvidia_text_mig import parse_nvidia_smi_table
from clustertop.parsers.nvidia_xml import parse_nvidia_smi_xml


@dataclass(frozen=True, slots=True)
class MigReading:
    """One MIG sample of a host: `nvidia-smi -L` joined onto `nvidia-smi -q -x`."""

    gpus: tuple[Gpu, ...] = ()
    """GPUs of the XML with their instances (profiles and MIG UUIDs from -L)."""
    apps: tuple[GpuApp, ...] = ()
    """Processes of the XML with their GI/CI."""
    error: str | None = None
    """Why the sample could not be read (nvidia-smi's own words, or the parser's)."""


def _first_words(text: str) -> str:
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return line[:200] or "no output"


def parse_mig_sample(listing: str, xml: str) -> MigReading:
    """A MigReading from the two outputs; an unreadable XML makes the whole sample an error."""

    try:
        gpus, apps = parse_nvidia_smi_xml(xml)
    except ValueError as exc:
        said = _first_words(xml)
        return MigReading(error=said if not said.startswith("<") else str(exc))
    listed, _ = parse_gpu_list(listing)
    return MigReading(tuple(join_mig(gpus, listed)), tuple(apps))


def _ref(app: GpuApp, gpu: Gpu | None) -> MigRef | None:
    if app.gpu_instance_id is None:
        return None
    ref = MigRef(app.gpu_instance_id, app.compute_instance_id)
    match = next((i for i in gpu.mig_instances if i.runs(ref)), None) if gpu else None
    return MigRef(ref.gpu_instance_id, ref.compute_instance_id, match.uuid) if match else ref


def apply_mig(
    gpus: Sequence[Gpu], processes: Sequence[GpuProcess], reading: MigReading | None
) -> tuple[list[Gpu], list[GpuProcess]]:
    """GPUs in MIG mode with the sample's instances, and processes with their instance.

    Matched by GPU UUID, processes by (GPU UUID, PID). A GPU in MIG mode the sample does not
    cover gets the sample's error, or says that no sample came yet; a process the sample does
    not list (it started since) keeps no instance, which leaves its GPU's instances unknown.
    """
    if not any(gpu.mig_mode == "Enabled" for gpu in gpus):
        return list(gpus), list(processes)
    sampled = {gpu.uuid: gpu for gpu in (reading.gpus if reading else ()) if gpu.uuid}
    result = []
    for gpu in gpus:
        if gpu.mig_mode != "Enabled":
            result.append(gpu)
            continue
        found = sampled.get(gpu.uuid)
        if found is None:
            why = reading.error if reading and reading.error else "MIG devices not read yet"
            result.append(dataclasses.replace(gpu, mig_error=why))
        else:
            result.append(
                dataclasses.replace(
                    gpu, mig_instances=found.mig_instances, mig_error=found.mig_error
                )
            )
    by_uuid = {gpu.uuid: gpu for gpu in result}
    refs = {
        (app.gpu_uuid, app.pid): _ref(app, by_uuid.get(app.gpu_uuid))
        for app in (reading.apps if reading else ())
    }
    procs = [
        dataclasses.replace(proc, mig=refs.get((proc.gpu_uuid, proc.pid)))
        if (proc.gpu_uuid, proc.pid) in refs
        else proc
        for proc in processes
    ]
    return result, procs


XML_SEPARATOR = "@xml"
"""The line between `nvidia-smi -L` and `nvidia-smi -q -x` in the probe's MIG sample."""


def parse_probe_mig(text: str, returncode: int) -> MigReading:
    """The probe's MIG part: `-L` lines, the XML_SEPARATOR line, then the (filtered) XML.

    A non-zero status of `-q -x` with no XML is nvidia-smi's error, shown as it said it.
    """
    listing, separator, xml = text.partition("\n" + XML_SEPARATOR + "\n")
    if not separator:
        listing, separator, xml = text.partition(XML_SEPARATOR + "\n")
        if not separator or listing:
            return MigReading(error=f"MIG sample without its XML part: {_first_words(text)}")
    head, fallback, table = ("\n" + xml).partition("\n" + TABLE_SEPARATOR + "\n")
    xml = head[1:]
    if returncode and "<nvidia_smi_log" not in xml:
        reading = MigReading(error=_first_words(xml))
    else:
        reading = parse_mig_sample(listing, xml)
    if reading.error is None or not fallback:
        return reading
    # -q -x refused or unreadable: the plain table's MIG devices, and why -q -x did not serve.
    from_table = table_mig_reading(listing, table)
    if from_table.error is not None:
        return MigReading(error=f"{reading.error}; nvidia-smi table: {from_table.error}")
    return from_table


TABLE_SEPARATOR = "@table"
"""The line before plain `nvidia-smi` output, sent after the XML part when `-q -x` failed."""


def table_mig_reading(listing: str, table: str) -> MigReading:
    """MIG devices and processes from plain `nvidia-smi` tables, joined by GPU index onto
    `nvidia-smi -L` (UUIDs, profiles, MIG UUIDs: the table has none of them)."""
    try:
        reading = parse_nvidia_smi_table(table)
    except ValueError as exc:
        return MigReading(error=str(exc))
    listed, _ = parse_gpu_list(listing)
    uuid_of = {gpu.index: gpu.uuid for gpu in listed}
    if not any(gpu.index in uuid_of for gpu in reading.gpus):
        return MigReading(error="nvidia-smi -L named no GPU to match the MIG devices table to")
    gpus = [dataclasses.replace(gpu, uuid=uuid_of.get(gpu.index, "")) for gpu in reading.gpus]
    apps = [dataclasses.replace(app, gpu_uuid=uuid_of.get(i, "")) for i, app in reading.apps]
    return MigReading(tuple(join_mig(gpus, listed)), tuple(apps))
