"""A host's GPUs and GPU processes from its gpu and procs readings, rebuilt when they change."""

from __future__ import annotations

from clustertop.model import Container, Gpu, GpuProcess
from clustertop.model.owners import OwnerRule
from clustertop.parsers.mig_sample import MigReading, apply_mig
from clustertop.parsers.nvidia_smi import GpuApp
from clustertop.sources.join import resolve_gpu_processes
from clustertop.sources.ssh.amd import amd_view
from clustertop.sources.ssh.attrib import docker_ref
from clustertop.sources.ssh.sections import GpuReading, ProcsReading

GpuParts = tuple[tuple[Gpu, ...], tuple[GpuProcess, ...]]


def start_time(procs: ProcsReading, ticks: int, hz: int) -> float | None:
    """A process's start (unix s) from its start ticks after boot."""
    if procs.btime is None:
        return None
    return round(procs.btime + ticks / hz, 2)


class GpuJoin:
    """The GPUs and their processes of each frame: the last frame's objects while every input
    they are made from is the same (most frames of a quiet host)."""

    __slots__ = ("_hz", "_key", "_parts", "_rule")

    def __init__(self, hz: int, rule: OwnerRule) -> None:
        self._hz, self._rule = hz, rule
        self._key: tuple[object, ...] | None = None
        self._parts: GpuParts = ((), ())

    def parts(
        self,
        gpu: GpuReading | None,
        apps: list[GpuApp],
        procs: ProcsReading | None,
        containers: list[Container],
        context: tuple[MigReading | None, float | None],
    ) -> GpuParts:
        """`apps`: the NVIDIA apps sample still current; `context`: the last MIG sample and
        the host's uptime."""
        if gpu is None:
            return (), ()
        key = self._key_of(gpu, apps, procs, containers, context[0])
        if key is not None and key == self._key:
            self._key = key  # the current inputs (see ContainerJoin.attach)
            return self._parts
        gpus, gpu_procs = self._join(gpu, apps, procs, containers, context)
        self._key, self._parts = key, (tuple(gpus), tuple(gpu_procs))
        return self._parts

    def _key_of(
        self,
        gpu: GpuReading,
        apps: list[GpuApp],
        procs: ProcsReading | None,
        containers: list[Container],
        mig: MigReading | None,
    ) -> tuple[object, ...] | None:
        # Everything _join reads (None: not worth a key). AMD values age with the uptime.
        if gpu.amd is not None:
            return None
        if not apps:
            return (gpu, mig)  # no processes: nothing of procs or containers is read
        rows = procs.rows if procs else {}
        found = procs.attributions if procs else {}
        of_apps = tuple((rows.get(a.pid), found.get(a.pid)) for a in apps)
        btime = procs.btime if procs else None
        return (gpu, mig, tuple(apps), of_apps, btime, tuple(containers))

    def _join(
        self,
        gpu: GpuReading,
        apps: list[GpuApp],
        procs: ProcsReading | None,
        containers: list[Container],
        context: tuple[MigReading | None, float | None],
    ) -> tuple[list[Gpu], list[GpuProcess]]:
        names = {c.id: c.name for c in containers}
        amd_gpus, amd_apps, _ = amd_view(gpu.amd, context[1])
        every = [*gpu.gpus, *amd_gpus]
        index_of = {g.uuid: g.index for g in every}
        result: list[GpuProcess] = []
        cpu: dict[tuple[int, float], float] = {}
        for app in [*apps, *amd_apps]:
            row = procs.rows.get(app.pid) if procs else None
            found = procs.attributions.get(app.pid) if procs and row else None
            user, command = (row.user, row.command) if row else (None, None)
            start = start_time(procs, row.start_ticks, self._hz) if procs and row else None
            if row is not None and start is not None and row.cpu_percent is not None:
                cpu[(app.pid, start)] = row.cpu_percent
            result.append(
                GpuProcess(
                    pid=app.pid,
                    gpu_index=index_of.get(app.gpu_uuid, -1),
                    gpu_uuid=app.gpu_uuid,
                    memory_used=app.memory_used,
                    user=user,
                    command=command or app.process_name or (row.comm if row else None),
                    container=docker_ref(row.container_id if row else None, found, names),
                    start_time=start,
                    attribution=found,
                )
            )
        gpus, result = apply_mig(every, result, context[0])
        return gpus, list(resolve_gpu_processes(result, containers, cpu, self._rule))


def gpu_line_errors(gpu: GpuReading | None) -> str | None:
    """The gpu section's errors beside its GPUs (a lost GPU, AMD's tool), for the snapshot."""
    if gpu is None:
        return None
    amd_error = amd_view(gpu.amd)[2]
    errors = [*gpu.errors, *([f"AMD: {amd_error}"] if amd_error else [])]
    return "; ".join(errors)[:300] if errors else None
