"""The stale rule over podman containers beside Docker's: the same rule, judged per engine."""

from __future__ import annotations

import dataclasses
import random

import pytest

from clustertop.analysis.stale import StaleTracker, stale_containers
from clustertop.model import Container, GpuProcess, HostSnapshot
from clustertop.model.attribution import PODMAN, Attribution
from tests.analysis.builders import T0, ctr, gpu, proc, snap

DOCKER_JOB = ctr("alice-train", gpus=(0,))
PODMAN_JOB = dataclasses.replace(ctr("bob-pod", gpus=(1,)), engine="podman")


def podman_proc(pid: int, gpu_index: int, container: Container) -> GpuProcess:
    """A GPU process in a podman container: named by its attribution (no Docker ref)."""
    found = Attribution(PODMAN, container.id, name=container.name, owner=container.owner)
    return dataclasses.replace(proc(pid, gpu_index), attribution=found)


def host(
    time: float,
    *,
    docker: bool = True,
    podman: bool = True,
    podman_util: float = 0.0,
) -> HostSnapshot:
    """Both jobs idle on GPUs 0 and 1; an engine that failed lists nothing and says why."""
    containers = ((DOCKER_JOB,) if docker else ()) + ((PODMAN_JOB,) if podman else ())
    return dataclasses.replace(
        snap(
            time=time,
            gpus=(gpu(0, 0.0, 2000), gpu(1, podman_util, 2000)),
            gpu_processes=(
                proc(100, 0, 2000, container=DOCKER_JOB),
                podman_proc(200, 1, PODMAN_JOB),
            ),
            containers=containers,
            docker_error=None if docker else "Docker daemon not running",
        ),
        podman_error=None if podman else "podman ps: storage is locked",
    )


def both(history: list[HostSnapshot], stale_after: float) -> frozenset[str]:
    """The pure function's answer, checked equal to the tracker's at every step."""
    tracker = StaleTracker(stale_after, 5.0)
    for end in range(1, len(history) + 1):
        expected = stale_containers(history[:end], stale_after=stale_after, util_percent=5.0)
        assert tracker.update(history[end - 1]) == expected, f"step {end - 1}"
    return stale_containers(history, stale_after=stale_after, util_percent=5.0)


def test_an_idle_podman_gpu_holder_is_stale_like_a_docker_one() -> None:
    history = [host(T0 + i * 60) for i in range(31)]
    assert both(history[:30], stale_after=1800) == frozenset()
    assert both(history, stale_after=1800) == {DOCKER_JOB.id, PODMAN_JOB.id}


def test_a_busy_podman_gpu_keeps_it_fresh() -> None:
    history = [host(T0 + i * 60, podman_util=50.0) for i in range(31)]
    assert both(history, stale_after=1800) == {DOCKER_JOB.id}


def test_docker_failing_carries_its_runs_over_while_podman_goes_on() -> None:
    history = [host(T0 + i * 60) for i in range(10)]
    history += [host(T0 + i * 60, docker=False) for i in range(10, 20)]
    # Docker unreadable: only podman's container is listed, and it stays judged.
    assert both(history, stale_after=1140) == {PODMAN_JOB.id}
    # Docker back: its run went on through the failure (first idle reading at T0).
    history.append(host(T0 + 20 * 60))
    assert both(history, stale_after=1200) == {DOCKER_JOB.id, PODMAN_JOB.id}


def test_podman_failing_carries_its_runs_over_while_docker_goes_on() -> None:
    history = [host(T0 + i * 60) for i in range(10)]
    history += [host(T0 + i * 60, podman=False) for i in range(10, 21)]
    assert both(history, stale_after=1200) == {DOCKER_JOB.id}
    history.append(host(T0 + 21 * 60))
    assert both(history, stale_after=1260) == {DOCKER_JOB.id, PODMAN_JOB.id}


def test_a_podman_container_missing_from_a_readable_podman_list_is_gone() -> None:
    history = [host(T0 + i * 60) for i in range(10)]
    gone = dataclasses.replace(host(T0 + 600), containers=(DOCKER_JOB,))
    history += [gone, host(T0 + 660)]
    assert both(history, stale_after=300) == {DOCKER_JOB.id}


def _random_history(rng: random.Random, steps: int) -> list[HostSnapshot]:
    history, time = [], T0
    for _ in range(steps):
        time += rng.choice([2, 2, 30, 60, 301, -5])
        snapshot = host(
            time,
            docker=rng.random() > 0.15,
            podman=rng.random() > 0.15,
            podman_util=rng.choice([0.0, 0.0, 3.0, 60.0]),
        )
        if rng.random() < 0.1:
            restarted = dataclasses.replace(PODMAN_JOB, started_at=time)
            kept = tuple(c for c in snapshot.containers if c.id != PODMAN_JOB.id)
            snapshot = dataclasses.replace(snapshot, containers=(*kept, restarted))
        history.append(snapshot)
    return history


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("stale_after", [0.0, 60.0])
def test_tracker_agrees_with_the_pure_function_with_engines_failing_apart(
    seed: int, stale_after: float
) -> None:
    rng = random.Random(seed)
    history = _random_history(rng, 120)
    tracker = StaleTracker(stale_after, 5.0)
    seen: set[str] = set()
    for end in range(1, len(history) + 1):
        expected = stale_containers(history[:end], stale_after=stale_after, util_percent=5.0)
        assert tracker.update(history[end - 1]) == expected, f"seed {seed} step {end - 1}"
        seen |= expected
    assert PODMAN_JOB.id in seen  # the histories do exercise the podman side
