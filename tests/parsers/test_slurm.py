"""`scontrol show job -d` on real captures (Slurm 19.x, 22.05 on this machine, 2025 releases)."""

from __future__ import annotations

import pytest

from clustertop.model.slurm import SlurmJob
from clustertop.parsers.slurm import index_list, parse_scontrol_jobs
from tests.parsers._fixtures import read_fixture

THIS = "slurm/this-machine-22.05"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{THIS}/scontrol_show_job_d_2.txt",
         SlurmJob("2", "slurmtest", 1003, "gpujob", None, "debug", "RUNNING",
                  "2026-12-06T18:58:37", {"vm": (0,)})),
        (f"{THIS}/constrained/scontrol_show_job_d_3.txt",
         SlurmJob("3", "slurmtest", 1003, "gpu2srun", None, "debug", "RUNNING",
                  "2026-12-06T19:10:25", {"vm": (1, 2)})),
        (f"{THIS}/constrained/scontrol_show_job_d_1.txt",
         SlurmJob("1", "slurmtest", 1003, "cpujob", None, "debug", "RUNNING",
                  "2026-12-06T19:10:25", {})),
    ],
)  # fmt: skip
def test_this_machine(name: str, expected: SlurmJob) -> None:
    jobs = parse_scontrol_jobs(read_fixture(name))
    assert jobs == {expected.id: expected}


def test_three_gpu_jobs_of_another_site() -> None:
    jobs = parse_scontrol_jobs(
        read_fixture("slurm/scontrol-show-job-dd-gpu-jobs-huji-anonymized.txt")
    )
    assert sorted(jobs) == ["2423559", "25686416", "25687666"]
    old, mid, new = jobs["2423559"], jobs["25686416"], jobs["25687666"]
    assert (old.user, old.uid, old.account, old.partition, old.gpus) == (
        "user4", 400, "account4", "short", {"cortex-08": (5,)})  # fmt: skip
    # gg:g0(CNT:1) beside the GPU is another GRES, not a GPU.
    assert mid.gpus == {"node-005": (3,)}
    assert (new.account, new.gpus) == ("system", {"node-001": (1,)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [("5", (5,)), ("1-2", (1, 2)), ("0,2-3", (0, 2, 3)), ("3-1", None), ("x", None),
     ("0-99999", None), ("", None)],
)  # fmt: skip
def test_index_list(text: str, expected: tuple[int, ...] | None) -> None:
    assert index_list(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "JobId=abc JobName=x\n", "slurm_load_jobs error: Socket timed out\n"],
)
def test_bad_input_gives_no_jobs(text: str) -> None:
    assert parse_scontrol_jobs(text) == {}


def test_a_malformed_gres_gives_no_gpus() -> None:
    text = "JobId=7 JobName=x\n   UserId=a(1)\n     Nodes=n1 CPU_IDs=0 Mem=1 GRES=gpu:1(IDX:9-1)\n"
    assert parse_scontrol_jobs(text)["7"].gpus == {}
