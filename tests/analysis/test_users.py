"""Per-person rows across hosts, the owner filter, and their JSON."""

from __future__ import annotations

from clustertop.analysis.users import UNKNOWN_OWNER, owner_filter, user_rows, users_json
from clustertop.model import MIB, HostSnapshot, HostState
from tests.analysis.builders import ctr, gpu, proc, snap, top_process

ALICE_A = ctr("alice-train", gpus=(0, 1))
ALICE_B = ctr("alice-eval", gpus=(0,))
BOB = ctr("bob-sweep", gpus=(2,))
BOB_OLD = ctr("bob-old", state="exited", gpus=(3,))


def cluster() -> list[HostSnapshot]:
    """Two hosts: alice on both (GPU 0 shared by two of her containers), bob on one."""
    one = snap(
        "gpu01",
        gpus=(gpu(0, 10.0, 3000), gpu(1, 30.0, 0), gpu(2, 80.0, 5000), gpu(3, 0.0, 0)),
        gpu_processes=(
            proc(1, 0, 1000, container=ALICE_A),
            proc(2, 0, 2000, container=ALICE_B),
            proc(3, 2, 5000, container=BOB),
            proc(4, 3, 100, owner=None, user=None),
        ),
        containers=(ALICE_A, ALICE_B, BOB, BOB_OLD),
    )
    two = snap(
        "gpu02",
        gpus=(gpu(0, None, 4000),),
        gpu_processes=(proc(7, 0, 4000, owner="alice", user="alice"),),
    )
    down = snap("gpu03", state=HostState.UNREACHABLE, error="refused")
    return [two, one, down]


def test_rows_count_gpus_memory_containers_and_hosts_per_person() -> None:
    rows = user_rows(cluster(), {"gpu01": frozenset({ALICE_B.id})})
    alice, bob, unknown = rows
    assert alice.owner == "alice"
    assert alice.gpus == 3  # gpu01 GPU 0 and 1 (container), gpu02 GPU 0
    assert alice.gpu_memory == 7000 * MIB
    assert alice.mean_util == 20.0  # gpu02's GPU is unknown and left out of the mean
    assert (alice.containers_running, alice.containers_stale, alice.processes) == (2, 1, 3)
    assert alice.hosts == ("gpu01", "gpu02")
    assert (bob.owner, bob.gpus, bob.gpu_memory, bob.containers_running) == (
        "bob",
        1,
        5000 * MIB,
        1,
    )
    assert bob.mean_util == 80.0
    assert (unknown.owner, unknown.gpus, unknown.processes) == (UNKNOWN_OWNER, 1, 1)


def test_rows_sort_by_gpus_then_memory_then_name() -> None:
    host = snap(
        gpus=(gpu(0), gpu(1), gpu(2)),
        gpu_processes=(
            proc(1, 0, 100, owner="zed"),
            proc(2, 1, 100, owner="amy"),
            proc(3, 2, 900, owner="kim"),
        ),
    )
    assert [row.owner for row in user_rows([host], {})] == ["kim", "amy", "zed"]


def test_people_with_only_exited_containers_have_no_row() -> None:
    assert user_rows([snap(containers=(BOB_OLD,))], {}) == []


def test_owner_filter_keeps_the_persons_things_and_the_host_figures() -> None:
    host = snap(
        gpus=(gpu(0), gpu(2)),
        gpu_processes=(proc(1, 0, container=ALICE_A), proc(3, 2, container=BOB)),
        containers=(ALICE_A, BOB),
        processes=(
            top_process(10, "root", ALICE_A),  # in her container, whoever runs it
            top_process(11, "alice"),  # hers by Unix user
            top_process(12, "root", BOB),
            top_process(13, None),
        ),
    )
    mine = owner_filter(host, "alice")
    assert [p.pid for p in mine.gpu_processes] == [1]
    assert mine.containers == (ALICE_A,)
    assert [p.pid for p in mine.processes] == [10, 11]
    assert mine.gpus == host.gpus and mine.memory == host.memory
    nobody = owner_filter(host, UNKNOWN_OWNER)
    assert [p.pid for p in nobody.processes] == [13]
    assert nobody.containers == () and nobody.gpu_processes == ()


def test_json_rows() -> None:
    [doc, *_] = users_json(user_rows(cluster(), {}))
    assert doc == {
        "owner": "alice",
        "gpus": 3,
        "gpu_memory": 7000 * MIB,
        "mean_util": 20.0,
        "containers_running": 2,
        "containers_stale": 0,
        "processes": 3,
        "hosts": ["gpu01", "gpu02"],
        "jobs": 0,
        "jobs_stale": 0,
        "pods_stale": 0,
    }


def test_jobs_pods_and_podman_containers_count_for_their_owner() -> None:
    import dataclasses

    from clustertop.model.attribution import Attribution

    def attributed(pid: int, index: int, kind: str, ident: str, owner: str) -> object:
        found = Attribution(kind, ident, owner=owner, via="job-user")
        return dataclasses.replace(proc(pid, index, owner=owner, user=owner), attribution=found)

    host = snap(
        "gpu01",
        gpus=(gpu(0, 0.0, 100), gpu(1, 0.0, 100), gpu(2, 0.0, 100)),
        gpu_processes=(
            attributed(1, 0, "slurm", "748468", "alice"),
            attributed(2, 1, "slurm", "748468", "alice"),  # same job, second GPU
            attributed(3, 2, "podman", "c" * 64, "alice"),
            attributed(4, 2, "session", "14", "alice"),  # a login session is no job
        ),  # type: ignore[arg-type]
    )
    (alice,) = user_rows([host], {})
    assert (alice.owner, alice.gpus, alice.processes, alice.jobs) == ("alice", 3, 4, 2)
    assert users_json([alice])[0]["jobs"] == 2


def test_the_owner_filter_keeps_processes_whose_attribution_names_the_owner() -> None:
    import dataclasses

    from clustertop.model.attribution import Attribution

    labelled = dataclasses.replace(
        top_process(10, "root"), attribution=Attribution("podman", "d" * 64, owner="carol")
    )
    other = dataclasses.replace(
        top_process(11, "root"), attribution=Attribution("podman", "e" * 64, owner="dave")
    )
    host = snap("gpu01", processes=(labelled, other))
    assert [p.pid for p in owner_filter(host, "carol").processes] == [10]
