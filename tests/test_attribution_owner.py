"""The one owner rule over Slurm jobs, podman, pods, Docker and sessions, and its `via`."""

from __future__ import annotations

import re

import pytest

from clustertop.model import Container, GpuProcess
from clustertop.model.attribution import Attribution, Facts, resolve
from clustertop.model.owners import OwnerRule
from clustertop.parsers.cgroup import classify_cgroup
from clustertop.parsers.slurm_env import parse_environ, with_env
from clustertop.sources.join import resolve_gpu_processes
from tests.parsers._fixtures import read_fixture

POD_UID = "b96a7488-3ee1-4bdc-9c98-155cc887b417"
CTR = "6ef14b5a76df7b5d24285e3a04ccbc6fd323620272b3787b5dc440fc1b75d294"


def _owner(base: Attribution, **facts: object) -> tuple[str | None, str | None]:
    found = resolve(base, Facts(**facts))  # type: ignore[arg-type]
    return found.owner, found.via


def test_slurm_job_user_wins_over_the_unix_user() -> None:
    # v1: the cgroup's uid named the job's user; a root helper in the job is still alice's.
    base = Attribution("slurm", "7", owner="alice", via="job-user", uid=1001)
    assert _owner(base, unix_user="root", job_user="alice") == ("alice", "job-user")
    assert _owner(Attribution("slurm", "7"), unix_user="bob") == ("bob", "unix-user")


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"labels": {"owner": "carol"}, "container_name": "alice-x", "unix_user": "dave"},
         ("carol", "label")),
        ({"container_name": "alice-x", "unix_user": "dave"}, ("alice", "name")),
        ({"unix_user": "dave"}, ("dave", "rootless-user")),
        ({"unix_user": "root"}, ("root", "unix-user")),
    ],
)  # fmt: skip
def test_podman_label_then_name_then_rootless_user(
    facts: dict[str, object], expected: tuple[str, str]
) -> None:
    assert _owner(Attribution("podman", "a" * 64), **facts) == expected


def test_pod_label_then_namespace_then_uid() -> None:
    base = Attribution("pod", POD_UID, container_id=CTR)
    assert _owner(base, labels={"owner": "erin"}, pod_namespace="ml") == ("erin", "label")
    assert _owner(base, pod_namespace="ml", unix_user="root") == ("ml", "namespace")
    # Nothing readable: the pod UID, never root (the bug this fixes).
    assert _owner(base, unix_user="root") == (POD_UID, "pod-uid")


def test_docker_as_before_and_none_is_the_unix_user() -> None:
    docker = Attribution("docker", "c" * 64)
    assert _owner(docker, labels={"owner": "x"}, unix_user="root") == ("x", "label")
    assert _owner(docker, container_name="bob_run", unix_user="root") == ("bob", "name")
    assert _owner(docker, unix_user="root") == ("root", "unix-user")
    assert _owner(Attribution("session", "14", uid=0), unix_user="root") == ("root", "unix-user")
    assert _owner(Attribution("none", ""), unix_user="u") == ("u", "unix-user")
    quiet = OwnerRule.from_config(unix_user_fallback=False)
    assert resolve(Attribution("none", ""), Facts(unix_user="u"), quiet).via is None


def test_a_pod_process_is_not_an_unnamed_root_docker_container() -> None:
    """Issue 12: a pod's process showed as an unnamed Docker container owned by root."""
    text = f"4:memory:/kubepods/besteffort/pod{POD_UID}/{CTR}\n"
    proc = GpuProcess(1, 0, "GPU-0", 1, user="root", attribution=classify_cgroup(text))
    (row,) = resolve_gpu_processes([proc], [], {})
    assert row.container is None
    assert row.attribution is not None
    assert (row.attribution.kind, row.owner, row.attribution.via) == ("pod", POD_UID, "pod-uid")


def test_a_dockershim_pod_gets_name_and_namespace_from_the_kubelet_labels() -> None:
    labels = {"io.kubernetes.pod.name": "train-7f9", "io.kubernetes.pod.namespace": "vision"}
    ctr = Container(CTR, "k8s_train_train-7f9", "img", "running", "Up", labels=labels)
    text = f"4:memory:/kubepods/besteffort/pod{POD_UID}/{CTR}\n"
    proc = GpuProcess(1, 0, "GPU-0", 1, user="root", attribution=classify_cgroup(text))
    (row,) = resolve_gpu_processes([proc], [ctr], {})
    assert row.attribution is not None
    assert (row.attribution.name, row.owner, row.attribution.via) == (
        "train-7f9", "vision", "namespace")  # fmt: skip
    assert row.container is not None and row.container.name == "k8s_train_train-7f9"


def _env(record: int) -> bytes:
    text = read_fixture("slurm/this-machine-22.05/constrained/proc_environ_sleep.txt")
    chunks = re.split(r"^== .*\n", text, flags=re.M)[1:]
    return chunks[record].replace("\n", "\0").encode()


def test_a_real_slurm_job_environment_gives_user_and_physical_gpus() -> None:
    v1 = "6:freezer:/slurm_vm/uid_1003/job_3/step_0\n"
    found = with_env(classify_cgroup(v1), parse_environ(_env(2)))
    # SLURM_STEP_GPUS/SLURM_JOB_GPUS=1,2 while CUDA_VISIBLE_DEVICES=0,1 (renumbered).
    assert (found.id, found.uid, found.gpus) == ("3", 1003, (1, 2))
    assert found.owner is None  # v1: the user is uid 1003's (the local reader), not the env's
    v2 = "0::/system.slice/slurmstepd.scope/job_3/step_0/user/task_0\n"
    found = with_env(classify_cgroup(v2), parse_environ(_env(2)))
    assert (found.id, found.owner, found.via, found.gpus) == ("3", "slurmtest", "job-user", (1, 2))


def test_an_environment_of_another_job_is_ignored() -> None:
    cgroup = "6:freezer:/slurm_vm/uid_1003/job_9/step_0\n"
    found = with_env(classify_cgroup(cgroup), parse_environ(_env(2)))
    assert (found.id, found.owner, found.gpus) == ("9", None, None)


@pytest.mark.parametrize(
    "environ",
    [
        b"",
        b"\0\0",
        b"SLURM_JOB_ID=3\0SLURM_JOB_GPUS=0,x\0",
        b"SLURM_JOB_ID=3\0SLURM_JOB_USER=a\x1bb",
    ],
)
def test_bad_environments_add_nothing_wrong(environ: bytes) -> None:
    found = with_env(classify_cgroup("6:freezer:/slurm/uid_5/job_3\n"), parse_environ(environ))
    assert found.gpus is None and found.owner is None


def test_a_forged_slurm_job_user_never_names_another_owner() -> None:
    """The environment is the job's to change: SLURM_JOB_USER=alice in bob's job."""
    environ = b"SLURM_JOB_ID=3\0SLURM_JOB_USER=alice\0"
    v1 = with_env(
        classify_cgroup("6:freezer:/slurm/uid_1002/job_3/step_0\n"), parse_environ(environ)
    )
    assert v1.owner is None  # the uid (bob's) is resolved by the local reader, never alice
    v2 = with_env(
        classify_cgroup("0::/system.slice/slurmstepd.scope/job_3/step_0/user/task_0\n"),
        parse_environ(environ),
    )
    found = resolve(v2, Facts(unix_user="bob", job_user=v2.owner))
    assert (found.owner, found.via) == ("bob", "unix-user")
    honest = resolve(v2, Facts(unix_user="alice", job_user=v2.owner))
    assert (honest.owner, honest.via) == ("alice", "job-user")
