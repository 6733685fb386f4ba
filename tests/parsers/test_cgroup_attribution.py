"""The cgroup classifier on every real capture, on truncated and unknown input, and on edges."""

from __future__ import annotations

import pytest

from clustertop.model.attribution import Attribution
from clustertop.parsers.cgroup import classify_cgroup, classify_paths
from tests.parsers._fixtures import fixture_names, read_fixture

K8S_POD = "b96a7488-3ee1-4bdc-9c98-155cc887b417"
K8S_CTR = "6ef14b5a76df7b5d24285e3a04ccbc6fd323620272b3787b5dc440fc1b75d294"
CRIO_POD = "a5c1f8d5-1919-434d-add7-4afaafdaef89"
CRIO_CTR = "5eed917563583925ffdbd40a64efb2aaffe58638e57add8becaf460fe74f5b1c"
DOCKER_ID = "9d5b23edb1ba181e8910389a99906598d69ac9a0ead109ee55730cc416d95f7f"
PODMAN_ID = "5da8459e6d35986c110fdae4c8d30e07cebfa69f5b06808911533b2f21efb30b"

# (kind, id, step, uid, container_id) per record; one record for a plain capture.
Expected = tuple[str, str, str | None, int | None, str | None]
CGROUP: dict[str, Expected] = {
    "proc-pid-cgroup-v1-k8s-crio-burstable-pod-calico-node-TRIMMED.txt": (
        "pod", CRIO_POD, None, None, CRIO_CTR),
    "proc-pid-cgroup-v1-slurm-asu-sol-step0-task0-constrained.txt": (
        "slurm", "62238108", "0", 961166, None),
    "proc-pid-cgroup-v1-slurm21-ex3-freezer-only.txt": ("slurm", "748468", "0", 7319, None),
    "proc-pid-cgroup-v2-slurm-fox-job-step0-task0.txt": ("slurm", "1392969", "0", None, None),
    "proc-pid-cgroup-v2-slurm-job-step0-task0-bash.txt": ("slurm", "4", "0", None, None),
    # The daemon itself (slurmstepd.scope/system) belongs to no job.
    "proc-pid-cgroup-v2-slurmstepd-system.txt": ("none", "", None, None, None),
    "proc-pid-cgroup-v2-user-session-scope.txt": ("session", "157", None, 20821, None),
    "proc-self-cgroup-v1-docker-cgroupfs.txt": ("docker", DOCKER_ID, None, None, None),
    "proc-self-cgroup-v1-k8s-containerd-burstable-pod-TRIMMED.txt": (
        "pod", K8S_POD, None, None, K8S_CTR),
    "proc-self-cgroup-v1-user-session-scope-root.txt": ("session", "14", None, 0, None),
    # `podman unshare` is a rootless user's shell, not a container.
    "proc-self-cgroup-v2-podman-unshare-rootless-user-service.txt": ("none", "", None, None, None),
}  # fmt: skip

# Multi-record captures of this machine: one `== ...` header per process.
RECORDS: dict[str, list[Expected]] = {
    "slurm/this-machine-22.05/proc_cgroup_sleep.txt": [
        ("slurm", "1", "batch", 1003, None), ("slurm", "2", "batch", 1003, None)],
    "slurm/this-machine-22.05/proc_cgroup_slurmstepd.txt": [
        ("slurm", "2", None, 1003, None), ("slurm", "1", None, 1003, None)],
    "slurm/this-machine-22.05/constrained/proc_cgroup_sleep.txt": [
        ("slurm", "1", "batch", 1003, None), ("slurm", "2", "batch", 1003, None),
        ("slurm", "3", "0", 1003, None)],
    # slurmstepd of a constrained job: freezer at the job, devices/memory at the step.
    "slurm/this-machine-22.05/constrained/proc_cgroup_slurmstepd.txt": [
        ("slurm", "1", "batch", 1003, None), ("slurm", "2", "batch", 1003, None),
        ("slurm", "3", "batch", 1003, None), ("slurm", "3", "0", 1003, None)],
    "podman/this-machine-4.3.1/podman_proc_cgroup_rootful.txt": [
        ("podman", PODMAN_ID, None, None, None), ("none", "", None, None, None)],
    # Rootless podman on cgroup v1 has no container cgroup: nothing to see here (the conmon
    # parent is what identifies it, see the podman tests).
    "podman/this-machine-4.3.1/podman_proc_cgroup_rootless.txt": [
        ("none", "", None, None, None), ("none", "", None, None, None)],
}  # fmt: skip


def _shape(found: Attribution) -> Expected:
    return (found.kind, found.id, found.step, found.uid, found.container_id)


def test_every_cgroup_capture_has_an_expectation() -> None:
    names = fixture_names("cgroup")
    assert names, "no cgroup captures found"
    assert {name.removeprefix("cgroup/") for name in names} <= set(CGROUP)


@pytest.mark.parametrize("name", sorted(CGROUP))
def test_cgroup_capture(name: str) -> None:
    assert _shape(classify_cgroup(read_fixture(f"cgroup/{name}"))) == CGROUP[name]


def _records(text: str) -> list[str]:
    chunks: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("== "):
            chunks.append("")
        elif chunks and line[:1].isdigit() and ":" in line:
            chunks[-1] += line
    return [chunk for chunk in chunks if chunk]


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_this_machine_captures(name: str) -> None:
    found = [_shape(classify_cgroup(chunk)) for chunk in _records(read_fixture(name))]
    assert found == RECORDS[name]


@pytest.mark.parametrize("name", sorted(CGROUP))
def test_every_truncation_is_no_attribution_or_the_right_one(name: str) -> None:
    """A read cut anywhere gives the full answer, or nothing: never another owner."""
    text = read_fixture(f"cgroup/{name}")
    right = _shape(classify_cgroup(text))
    nothing = ("none", "", None, None, None)
    for cut in range(len(text)):
        found = _shape(classify_cgroup(text[:cut]))
        # Losing later lines may lose a finer detail (the step) but never changes kind or id.
        assert found == nothing or found[:2] == right[:2], (cut, found)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "\n\n",
        "garbage\n",
        "0::/\n",
        "0::/system.slice/docker-abc.scope\n",  # id too short
        "4:memory:/docker/" + "g" * 64 + "\n",  # not hex
        "4:memory:/docker/" + "a" * 65 + "\n",  # too long
        "6:freezer:/slurm/uid_x/job_1/step_0\n",
        "6:freezer:/slurm/job_1\n",  # no uid level: not a shape Slurm makes
        "0::/user.slice/user-1000.slice/user@1000.service/app.slice\n",
        "0::/kubepods/besteffort/podnot-a-uid/" + "a" * 64 + "\n",
        "0::/system.slice/slurmstepd.scope/system\n",
        "\x1b[31m:evil:/docker\n",
        "x" * 100_000 + "\n",
    ],
)
def test_unknown_or_bad_input_is_no_attribution(text: str | None) -> None:
    assert classify_cgroup(text) == Attribution("none", "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"0::/system.slice/docker-{DOCKER_ID}.scope", ("docker", DOCKER_ID, None, None, None)),
        (f"0::/machine.slice/libpod-{PODMAN_ID}.scope", ("podman", PODMAN_ID, None, None, None)),
        (
            f"0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{PODMAN_ID}.scope",
            ("podman", PODMAN_ID, None, None, None),
        ),
        (
            f"0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
            f"{K8S_POD.replace('-', '_')}.slice/cri-containerd-{K8S_CTR}.scope",
            ("pod", K8S_POD, None, None, K8S_CTR),
        ),
        (f"0::/kubepods/besteffort/pod{K8S_POD}/{K8S_CTR}", ("pod", K8S_POD, None, None, K8S_CTR)),
        (f"0::/kubepods/pod{K8S_POD}/{K8S_CTR}", ("pod", K8S_POD, None, None, K8S_CTR)),
        (f"0::/kubepods/pod{K8S_POD}", ("pod", K8S_POD, None, None, None)),
        (f"0::/system.slice/crio-{CRIO_CTR}.scope", ("pod", CRIO_CTR, None, None, CRIO_CTR)),
        (
            "0::/system.slice/node7_slurmstepd.scope/job_12/step_extern/user/task_0",
            ("slurm", "12", "extern", None, None),
        ),
        (
            "4:freezer:/slurm_node7/uid_1001/job_99/step_interactive/task_3",
            ("slurm", "99", "interactive", 1001, None),
        ),
    ],
)
def test_shapes_not_in_the_captures(line: str, expected: Expected) -> None:
    assert _shape(classify_cgroup(line + "\n")) == expected


def test_a_pod_is_never_a_docker_container() -> None:
    """The cgroupfs kubepods path ends in a bare 64-hex id, which alone reads as Docker."""
    found = classify_cgroup(f"4:memory:/kubepods/burstable/pod{K8S_POD}/{K8S_CTR}\n")
    assert (found.kind, found.id) == ("pod", K8S_POD)


@pytest.mark.parametrize(
    "text",
    [
        # A user's own cgroup named "x\n0::/slurm/uid_0/job_1/step_0" (pure v2: one line).
        "0::/user.slice/user-1000.slice/user@1000.service/x\n0::/slurm/uid_0/job_1/step_0\n",
        "0::/user.slice/user-1000.slice/user@1000.service/x\n5:freezer:/slurm/uid_0/job_1\n",
        # v1: the forged line repeats an id that is already there.
        "6:freezer:/user.slice/x\n5:devices:/slurm/uid_0/job_1\n5:devices:/\n0::/\n",
    ],
)
def test_a_forged_line_in_a_cgroup_name_gives_nothing(text: str) -> None:
    assert classify_cgroup(text) == Attribution("none", "")


def test_the_probes_paths_classify_like_the_file() -> None:
    """The probe sends the distinct interesting paths of a file, tab-separated."""
    for name in sorted(CGROUP):
        text = read_fixture(f"cgroup/{name}")
        paths = []
        for line in text.splitlines():
            path = line.split(":", 2)[2]
            if path not in paths:
                paths.append(path)
        assert _shape(classify_paths("\t" + "\t".join(paths))) == CGROUP[name], name
    assert classify_paths("") == Attribution("none", "")
    assert classify_paths("\tnot/a/path\t") == Attribution("none", "")
