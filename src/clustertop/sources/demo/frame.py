"""One tick of a demo host: its GPUs, GPU processes, containers, processes and disks."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

from clustertop.model import (
    MIB,
    Container,
    ContainerRef,
    Disk,
    Gpu,
    GpuProcess,
    Process,
)
from clustertop.sources.demo.cluster import GIB, HOSTILE_COMMAND, Job, PlannedHost

_TIB = 1024 * GIB
_DAY = 86400.0


def _wave(tick: int, phase: float, speed: float = 0.35) -> float:
    return math.sin(tick * speed + phase)


def _clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return min(max(value, low), high)


def docker_age(seconds: float) -> str:
    """Docker's wording for a duration: '3 days', '2 weeks', 'About an hour'."""
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / _DAY
    if minutes < 1:
        return f"{max(int(seconds), 1)} seconds"
    if minutes < 60:
        return "About a minute" if minutes < 2 else f"{int(minutes)} minutes"
    if hours < 48:
        return "About an hour" if hours < 2 else f"{int(hours)} hours"
    if days < 14:
        return f"{int(days)} days"
    return f"{int(days // 7)} weeks" if days < 90 else f"{int(days // 30)} months"


class Frame:
    """One tick of one host: turns the plan into model objects."""

    def __init__(self, host: PlannedHost, tick: int, now: float, start: float) -> None:
        self.host, self.tick, self.now, self.start = host, tick, now, start
        self.running = [job for job in host.jobs if job.finished is None]

    def wave(self, offset: float = 0.0) -> float:
        """A smooth -1..1 value that moves with the tick."""
        return _wave(self.tick, self.host.phase + offset)

    def util(self, job: Job, offset: int = 0) -> float:
        if job.util == 0.0:
            return 0.0
        return round(_clamp(job.util + 12 * _wave(self.tick, self.host.phase + offset)), 0)

    def gpus(self) -> tuple[Gpu, ...]:
        return tuple(self.gpu(index) for index in range(self.host.gpu_count))

    def gpu(self, index: int) -> Gpu:
        model = self.host.model
        assert model is not None
        job = next((job for job in self.running if index in job.gpus), None)
        util = self.util(job, index) if job else 0.0
        used = int((job.gpu_gib * 1024 + 3 * _wave(self.tick, index)) if job else 4) * MIB
        temp = round(31 + util * 0.48 + 2 * _wave(self.tick, index, 0.2))
        return Gpu(
            index=index,
            uuid=self.host.gpu_uuids[index],
            name=model.name,
            util_percent=util,
            memory_used=used,
            memory_total=model.memory_mib * MIB,
            temperature_c=float(temp),
            power_w=round(model.idle_power + (model.power_limit - model.idle_power) * util / 100),
            power_limit_w=model.power_limit,
            fan_percent=float(round(30 + util * 0.45)) if model.fan else None,
            memory_util_percent=round(util * 0.6),
            bus_id=f"00000000:{0x17 + index * 0x14:02X}:00.0",
            ecc_uncorrected=0 if model.ecc else None,
            mig_mode="Disabled" if model.ecc else None,
        )

    def gpu_processes(self, gpus: Sequence[Gpu]) -> tuple[GpuProcess, ...]:
        return tuple(
            GpuProcess(
                pid=job.pid + offset,
                gpu_index=index,
                gpu_uuid=gpus[index].uuid,
                memory_used=(gpus[index].memory_used or 0) - 4 * MIB,
                user="root" if job.run_as_root else job.user,
                command=job.command,
                container=ContainerRef(job.id, job.name),
                owner=job.user,
                start_time=self.start + job.started + 20,
                cpu_percent=round(_clamp(97 + 3 * _wave(self.tick, offset), 0, 120), 1)
                if job.util
                else 0.3,
            )
            for job in self.running
            for offset, index in enumerate(job.gpus)
        )

    def containers(self, gpu_procs: Sequence[GpuProcess]) -> tuple[Container, ...]:
        return tuple(self.container(job, gpu_procs) for job in self.host.jobs)

    def container(self, job: Job, gpu_procs: Sequence[GpuProcess]) -> Container:
        started = self.start + job.started
        mine = [proc for proc in gpu_procs if proc.container and proc.container.id == job.id]
        running = Container(
            id=job.id,
            name=job.name,
            image=job.image,
            state="running",
            status=f"Up {docker_age(self.now - started)}",
            cpu_percent=round(sum(proc.cpu_percent or 0 for proc in mine) + 1.5, 1),
            memory_used=int(job.host_gib * GIB),
            gpus=job.gpus,
            owner=job.user,
            labels=dict(job.labels),
            created=started - 40,
            started_at=started,
            pid=job.pid - 30,
            log_size=job.log_bytes + self.tick * 4096,
            gpu_memory_used=sum(proc.memory_used or 0 for proc in mine) or None,
        )
        if job.finished is None:
            return running
        ago = docker_age(self.now - (self.start + job.finished))
        return dataclasses.replace(
            running,
            state="exited",
            status=f"Exited ({job.exited_code}) {ago} ago",
            cpu_percent=None,
            memory_used=None,
            pid=None,
            gpu_memory_used=None,
            finished_at=self.start + job.finished,
            exit_code=job.exited_code,
        )

    def processes(self) -> tuple[Process, ...]:
        mem_total = self.host.memory_gib * GIB
        procs = [
            Process(
                job.pid + offset,
                "root" if job.run_as_root else job.user,
                round(_clamp(97 + 3 * _wave(self.tick, offset), 0, 120), 1) if job.util else 0.3,
                round(100 * job.host_gib * GIB / max(len(job.gpus), 1) / mem_total, 1),
                int(job.host_gib * GIB / max(len(job.gpus), 1)),
                self.start + job.started + 20,
                job.command,
                ContainerRef(job.id, job.name),
            )
            for job in self.running
            for offset in range(max(len(job.gpus), 1))
        ]
        procs.extend(self.system_processes())
        return tuple(procs)

    def system_processes(self) -> list[Process]:
        boot = self.now - self.host.uptime
        wave = _wave(self.tick, self.host.phase)
        rows = [
            (1, "root", 0.0, 13 * MIB, "/sbin/init"),
            (
                812,
                "root",
                round(1.2 + wave, 1),
                96 * MIB,
                "/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock",
            ),
            (1203, "root", 0.1, 9 * MIB, "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"),
            (97, "root", 0.0, 0, "[kworker/u256:2-events_unbound]"),
        ]
        if self.host.gpu_count:
            rows.append((2011, "alice", 0.7, 24 * MIB, "nvidia-smi dmon -s pucm"))
        if self.host.name == "gpu05":
            rows.append((31337, "eve", 0.0, 2 * MIB, HOSTILE_COMMAND))
        if self.host.name == "login":
            rows += [
                (4411, "bob", 0.3, 11 * MIB, "tmux new -s exp"),
                (4502, "jun", 2.1, 310 * MIB, "vim train.py"),
            ]
        total = self.host.memory_gib * GIB
        return [
            Process(pid, user, cpu, round(100 * rss / total, 2), rss, boot + pid, command)
            for pid, user, cpu, rss, command in rows
        ]

    def disks(self) -> tuple[Disk, ...]:
        name = self.host.name
        rows: list[tuple[str, str, str, int, float]] = [
            ("/", "/dev/nvme0n1p2", "ext4", int(1.7 * _TIB), 0.88 if name == "gpu03" else 0.41),
            ("/boot/efi", "/dev/nvme0n1p1", "vfat", 511 * MIB, 0.01),
        ]
        if name == "storage01":
            rows += [
                ("/data", "/dev/md127", "xfs", 96 * _TIB, 0.97),
                ("/export/home", "/dev/md126", "xfs", 40 * _TIB, 0.58),
            ]
        else:
            rows += [("/home", "storage01:/export/home", "nfs4", 40 * _TIB, 0.58)]
            if self.host.gpu_count:
                rows.append(("/scratch", "/dev/md0", "xfs", 14 * _TIB, 0.62))
        return tuple(_disk(*row) for row in rows)


def _disk(mount: str, device: str, fstype: str, total: int, share: float) -> Disk:
    used = int(total * share)
    reserved = int(total * 0.05) if fstype == "ext4" else 0
    inodes = total // (64 * 1024)
    return Disk(
        mount,
        device,
        fstype,
        total,
        used,
        max(total - used - reserved, 0),
        inodes,
        int(inodes * share * 0.3),
    )
