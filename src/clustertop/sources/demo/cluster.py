"""The demo cluster's fixed layout: 24 lab hosts, their GPU models, users, jobs and containers."""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any

from clustertop.model import (
    MIB,
)

GIB = 1024 * MIB
"""Bytes in one GiB."""
_TIB = 1024 * GIB
_DAY = 86400.0
DRIVER_NOT_LOADED = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running."
)
"""nvidia-smi's own words when the kernel module is missing (from a real capture)."""
DOCKER_DENIED = (
    "permission denied while trying to connect to the Docker daemon socket at "
    'unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.49/containers/json": '
    "dial unix /var/run/docker.sock: connect: permission denied"
)
"""docker's own words for a user outside the docker group (from a real capture)."""
HOSTILE_COMMAND = "[red]x[/] \x1b[2J"
"""A process name that would recolour or clear the screen if rendered as markup or raw."""


@dataclass(frozen=True, slots=True)
class GpuModel:
    name: str
    memory_mib: int
    power_limit: float
    idle_power: float
    fan: bool
    ecc: bool = True


_MODELS = {
    "a6000": GpuModel("NVIDIA RTX A6000", 49140, 300, 22, fan=True),
    "4090": GpuModel("NVIDIA GeForce RTX 4090", 24564, 450, 18, fan=True, ecc=False),
    "l40s": GpuModel("NVIDIA L40S", 46068, 350, 34, fan=False),
    "a100": GpuModel("NVIDIA A100-SXM4-80GB", 81920, 400, 61, fan=False),
    "h100": GpuModel("NVIDIA H100 80GB HBM3", 81559, 700, 72, fan=False),
}
_USERS = ("alice", "bob", "chen", "dana", "eve", "farid", "gita", "hiro", "ivan", "jun")
_JOBS = (
    ("train", "python train.py --config configs/resnet50.yaml --amp"),
    ("llm-finetune", "torchrun --nproc_per_node=4 finetune.py --model llama-3-8b --lora"),
    ("sweep", "python sweep.py --trial 17 --lr 3e-4"),
    ("diffusion", "accelerate launch train_diffusion.py --resolution 1024"),
    ("rl-agent", "python -m rl.train env=atari/breakout seed=3"),
    ("eval", "python eval.py --ckpt runs/0912/best.pt"),
    ("bert-pretrain", "python run_mlm.py --model_name_or_path bert-base-uncased"),
)
_IMAGES = (
    "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime",
    "nvcr.io/nvidia/pytorch:24.08-py3",
    "huggingface/transformers-pytorch-gpu:4.44.2",
    "lab/ml-base:2025.09",
)
# name, GPU model, GPU count, cores, memory GiB
_HOSTS = (
    *((f"gpu{n:02d}", "a6000", 4, 64, 256) for n in range(1, 5)),
    *((f"gpu{n:02d}", "4090", 4, 32, 128) for n in range(5, 9)),
    *((f"gpu{n:02d}", "l40s", 4, 64, 512) for n in range(9, 13)),
    *((f"gpu{n:02d}", "a100", 4, 128, 1024) for n in range(13, 17)),
    ("dgx-a", "a100", 8, 256, 2048),
    ("dgx-b", "h100", 8, 224, 2048),
    *((f"cpu{n:02d}", None, 0, 96, 384) for n in range(1, 5)),
    ("login", None, 0, 16, 64),
    ("storage01", None, 0, 32, 256),
)
HOST_LAYOUT = _HOSTS
"""(name, GPU model, GPU count, cores, memory GiB) of every demo host, in order."""
NO_DRIVER_HOST = "gpu11"
"""The host whose NVIDIA driver is not loaded."""


@dataclass(slots=True)
class Job:
    """A container (running or exited) and, while running, its processes on GPUs."""

    name: str
    user: str
    command: str
    image: str
    gpus: tuple[int, ...]
    id: str
    pid: int
    started: float
    util: float = 0.0
    gpu_gib: float = 0.0
    host_gib: float = 8.0
    log_bytes: int = 40 * MIB
    labels: dict[str, str] = field(default_factory=dict)
    run_as_root: bool = True
    exited_code: int | None = None
    finished: float | None = None


@dataclass(slots=True)
class PlannedHost:
    name: str
    model: GpuModel | None
    gpu_count: int
    cores: int
    memory_gib: int
    uptime: float
    phase: float
    gpu_uuids: list[str]
    jobs: list[Job] = field(default_factory=list)


class Planner:
    """Builds the fixed cluster layout from a seed; times are offsets from the source's start."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.next_pid = 4000

    def hex_id(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def pid(self) -> int:
        self.next_pid += self.rng.randint(7, 900)
        return self.next_pid

    def host(self, name: str, model: str | None, gpus: int, cores: int, mem: int) -> PlannedHost:
        rng = self.rng
        uuids = [
            f"GPU-{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-"
            f"{rng.getrandbits(16):04x}-{rng.getrandbits(16):04x}-{rng.getrandbits(48):012x}"
            for _ in range(gpus)
        ]
        host = PlannedHost(
            name,
            _MODELS[model] if model else None,
            gpus,
            cores,
            mem,
            rng.uniform(9, 120) * _DAY,
            rng.uniform(0, 6.28),
            uuids,
        )
        host.jobs = self.jobs(host) + self.exited(host)
        return host

    def job(self, gpus: tuple[int, ...], user: str = "", kind: str = "", **changes: Any) -> Job:
        """A job on `gpus`; user and kind (a _JOBS name) are drawn when not given."""
        rng = self.rng
        drawn_user, (drawn_kind, _) = rng.choice(_USERS), rng.choice(_JOBS)
        user, kind = user or drawn_user, kind or drawn_kind
        job = Job(
            name=f"{user}-{kind}",
            user=user,
            command=dict(_JOBS).get(kind, "python main.py"),
            image=rng.choice(_IMAGES),
            gpus=gpus,
            id=self.hex_id(),
            pid=self.pid(),
            started=-rng.uniform(2 * 3600, 9 * _DAY),
            util=rng.uniform(55, 99),
            gpu_gib=rng.uniform(6, 20),
            host_gib=rng.uniform(8, 64),
            log_bytes=rng.randint(2, 400) * MIB,
            run_as_root=rng.random() < 0.6,
        )
        return dataclasses.replace(job, **changes)

    def jobs(self, host: PlannedHost) -> list[Job]:
        special = _special_jobs(self, host)
        if special is not None or host.model is None:
            return special or []
        jobs, index = [], 0
        sizes = (2, 4, 8) if host.gpu_count == 8 else (1, 1, 2, 4)
        while index < host.gpu_count:
            if self.rng.random() < 0.3:
                index += 1
                continue
            size = min(self.rng.choice(sizes), host.gpu_count - index)
            jobs.append(self.job(tuple(range(index, index + size))))
            index += size
        cap = host.model.memory_mib / 1024 * 0.9
        for job in jobs:
            job.gpu_gib = min(job.gpu_gib * host.model.memory_mib / 24564, cap)
        return jobs

    def exited(self, host: PlannedHost) -> list[Job]:
        result = []
        for _ in range(self.rng.randint(0, 2) if host.gpu_count else 0):
            finished = -self.rng.uniform(15, 60) * _DAY
            result.append(
                self.job(
                    (),
                    started=finished - 3 * _DAY,
                    finished=finished,
                    exited_code=self.rng.choice((0, 0, 1, 137)),
                )
            )
        return result


def _special_jobs(plan: Planner, host: PlannedHost) -> list[Job] | None:
    """The jobs that make the demo tell a story; None for hosts left to chance."""
    if host.name == "gpu02":
        return [
            plan.job((0, 1), user="alice", kind="train"),
            plan.job(
                (2,),
                user="eve",
                kind="notebook",
                util=0.0,
                gpu_gib=18.2,
                command="jupyter-lab --no-browser --port 8890 --ip 0.0.0.0",
                image="jupyter/pytorch-notebook:cuda12-2024-09-02",
                started=-19 * _DAY,
                run_as_root=False,
            ),
        ]
    if host.name == "gpu03":
        return [
            plan.job(
                (0, 1, 2, 3),
                user="dana",
                kind="llm-finetune",
                gpu_gib=41.5,
                log_bytes=int(7.8 * GIB),
            )
        ]
    if host.name == "gpu09":
        return [
            plan.job(
                (0, 1), user="chen", kind="train", name="train-run-42", labels={"owner": "chen"}
            ),
            plan.job((3,), user="gita", kind="eval"),
        ]
    if host.name == "dgx-a":
        return [
            plan.job(tuple(range(6)), user="hiro", kind="llm-finetune", gpu_gib=71.0),
            plan.job(
                (6, 7),
                user="farid",
                kind="sweep",
                name="farid-sweep-old",
                util=0.0,
                gpu_gib=61.3,
                started=-23 * _DAY,
            ),
        ]
    if host.name == NO_DRIVER_HOST:
        return [plan.job((), user="ivan", kind="dataprep", command="python prep.py --shards 64")]
    return None
