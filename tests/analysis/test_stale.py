"""The stale-container rule: the pure function, the incremental tracker, and their agreement."""

from __future__ import annotations

import dataclasses
import random

import pytest

from clustertop.analysis.stale import StaleTracker, exited_for_cleanup, stale_containers
from clustertop.config.settings import Config
from clustertop.model import Container, HostSnapshot, HostState, Section
from tests.analysis.builders import T0, ctr, gpu, proc, snap

JOB = ctr("alice-train", gpus=(0,))
"""A running container on GPU 0."""


def idle_host(
    time: float, util: float | None = 0.0, *, container: Container = JOB, **kwargs: object
) -> HostSnapshot:
    """gpu01 with `container` holding 2000 MiB on GPU 0 at `util`, GPU 1 busy with nothing."""
    return snap(
        time=time,
        gpus=(gpu(0, util, 2000), gpu(1, 90.0, 0)),
        gpu_processes=(proc(100, 0, 2000, container=container),),
        containers=(container,),
        **kwargs,  # type: ignore[arg-type]
    )


def both(history: list[HostSnapshot], stale_after: float, util: float = 5.0) -> frozenset[str]:
    """The answer of the pure function, checked equal to the tracker's at every step."""
    tracker = StaleTracker(stale_after, util)
    for end in range(1, len(history) + 1):
        expected = stale_containers(history[:end], stale_after=stale_after, util_percent=util)
        assert tracker.update(history[end - 1]) == expected, f"step {end - 1}"
    return stale_containers(history, stale_after=stale_after, util_percent=util)


def every(seconds: float, until: float, **kwargs: object) -> list[HostSnapshot]:
    """Idle snapshots every `seconds` from T0 to T0 + until, inclusive."""
    count = int(until // seconds) + 1
    return [idle_host(T0 + i * seconds, **kwargs) for i in range(count)]  # type: ignore[arg-type]


def test_zero_stale_after_marks_an_idle_holder_from_one_snapshot() -> None:
    assert both([idle_host(T0)], stale_after=0) == {JOB.id}


def test_idle_holder_turns_stale_once_idle_for_stale_after() -> None:
    history = every(60, 1740)
    assert both(history, stale_after=1800) == frozenset()
    history.append(idle_host(T0 + 1800))
    assert both(history, stale_after=1800) == {JOB.id}


def test_utilisation_at_the_threshold_is_idle_and_just_over_it_is_not() -> None:
    assert both(every(60, 600, util=5.0), stale_after=600) == {JOB.id}
    history = every(60, 600, util=5.0)
    history[5] = idle_host(history[5].time, 5.1)
    assert both(history, stale_after=600) == frozenset()
    assert both(history, stale_after=240) == {JOB.id}


def test_a_busy_reading_restarts_the_idle_run() -> None:
    history = every(60, 3600)
    history[40] = idle_host(history[40].time, 80.0)  # 2400 s in
    assert both(history, stale_after=1141) == frozenset()
    assert both(history, stale_after=1140) == {JOB.id}  # idle 2460..3600 s


def test_one_busy_gpu_of_several_keeps_the_container_fresh() -> None:
    two = ctr("bob-ddp", gpus=(0, 1))
    history = [
        snap(
            time=T0 + i * 60,
            gpus=(gpu(0, 0.0, 2000), gpu(1, 60.0, 2000)),
            gpu_processes=(proc(1, 0, container=two), proc(2, 1, container=two)),
            containers=(two,),
        )
        for i in range(40)
    ]
    assert both(history, stale_after=600) == frozenset()


def test_gpus_of_its_processes_count_even_when_gpus_is_empty() -> None:
    bare = ctr("bob-x", gpus=())
    history = [
        snap(
            time=T0 + i * 60,
            gpus=(gpu(0, 0.0, 2000), gpu(1, 70.0, 2000)),
            gpu_processes=(proc(1, 1, container=bare),),  # on the busy GPU 1
            containers=(bare,),
        )
        for i in range(40)
    ]
    assert both(history, stale_after=600) == frozenset()


def test_a_container_holding_no_gpu_memory_is_never_stale() -> None:
    cpu_only = ctr("carol-etl", gpus=(0,), gpu_mem_mib=0)
    history = [
        snap(time=T0 + i * 60, gpus=(gpu(0, 0.0, 0),), containers=(cpu_only,)) for i in range(40)
    ]
    assert both(history, stale_after=0) == frozenset()


def test_gpu_memory_without_a_visible_process_still_counts_as_holding() -> None:
    holder = ctr("dana-nb", gpus=(0,), gpu_mem_mib=4000)
    history = [
        snap(time=T0 + i * 60, gpus=(gpu(0, 1.0, 4000),), containers=(holder,)) for i in range(40)
    ]
    assert both(history, stale_after=1800) == {holder.id}


@pytest.mark.parametrize("state", ["paused", "exited", "restarting", "created"])
def test_only_running_containers_can_be_stale(state: str) -> None:
    other = dataclasses.replace(JOB, state=state)
    assert both([idle_host(T0 + i * 60, container=other) for i in range(40)], 0) == frozenset()


def test_unknown_utilisation_neither_breaks_nor_extends_the_run() -> None:
    history = every(60, 600)  # idle 0..600 s
    history += [idle_host(T0 + 600 + i * 60, None) for i in range(1, 31)]  # N/A up to 2400 s
    assert both(history, stale_after=1200) == frozenset()  # only 600 s were seen idle
    assert both(history, stale_after=600) == {JOB.id}  # and an unknown reading keeps it stale
    history.append(idle_host(T0 + 2460))  # idle again: the run spans 0..2460 s
    assert both(history, stale_after=1800) == {JOB.id}


def test_a_gpu_that_never_reports_utilisation_never_makes_a_container_stale() -> None:
    assert both(every(60, 7200, util=None), stale_after=0) == frozenset()


def test_a_gpu_with_an_error_proves_nothing() -> None:
    history = [
        snap(
            time=T0 + i * 60,
            gpus=(gpu(0, 0.0, 2000, error="GPU is lost"),),
            gpu_processes=(proc(1, 0, container=JOB),),
            containers=(JOB,),
        )
        for i in range(40)
    ]
    assert both(history, stale_after=0) == frozenset()


def test_a_stale_gpu_section_proves_nothing_but_a_failed_docker_read_carries_runs_over() -> None:
    history = every(60, 600)
    history += [idle_host(T0 + 600 + i * 60, stale={Section.GPU: 30.0}) for i in range(1, 20)]
    assert both(history, stale_after=900) == frozenset()
    history = every(60, 600)
    history += [
        dataclasses.replace(idle_host(T0 + 600 + i * 60), containers=(), docker_error="timed out")
        for i in range(1, 5)
    ]
    assert both(history, stale_after=0) == frozenset()  # nothing listed, nothing reported
    history.append(idle_host(T0 + 960))
    assert both(history, stale_after=960) == {JOB.id}  # the run went on through the failure


def test_a_gap_longer_than_five_minutes_restarts_the_run() -> None:
    before = every(60, 1200)
    after = [idle_host(T0 + 1200 + 301 + i * 60) for i in range(11)]
    assert both(before + after, stale_after=1200) == frozenset()
    assert both(before + after, stale_after=600) == {JOB.id}
    close = [idle_host(T0 + 1200 + 300 + i * 60) for i in range(11)]
    assert both(before + close, stale_after=2100) == {JOB.id}


def test_the_host_down_for_a_while_restarts_the_run_and_reports_nothing_while_down() -> None:
    history = every(60, 1800)
    down = [
        snap(time=T0 + 1800 + i * 60, state=HostState.UNREACHABLE, error="refused")
        for i in range(1, 10)
    ]
    assert both(history + down, stale_after=1800) == frozenset()
    history += [*down, idle_host(T0 + 1800 + 600)]
    assert both(history, stale_after=1800) == frozenset()
    assert both(history, stale_after=0) == {JOB.id}


def test_time_going_backwards_restarts_the_run() -> None:
    history = [*every(60, 1800), idle_host(T0 + 1000)]
    assert both(history, stale_after=1800) == frozenset()


def test_a_restart_restarts_the_run() -> None:
    history = every(60, 1800)
    restarted = dataclasses.replace(JOB, started_at=T0 + 1830)
    history += [idle_host(T0 + 1800 + i * 60, container=restarted) for i in range(1, 10)]
    assert both(history, stale_after=1800) == frozenset()
    assert both(history, stale_after=480) == {JOB.id}


def test_a_replacement_with_the_same_name_is_a_new_container() -> None:
    history = every(60, 1800)
    twin = ctr("alice-train", gpus=(0,), container_id="f" * 64)
    history += [idle_host(T0 + 1800 + i * 60, container=twin) for i in range(1, 10)]
    assert both(history, stale_after=1800) == frozenset()
    assert both(history, stale_after=480) == {twin.id}


def test_a_container_missing_from_a_readable_list_is_gone() -> None:
    history = every(60, 1800)
    history[15] = dataclasses.replace(history[15], containers=(), gpu_processes=())
    assert both(history, stale_after=1800) == frozenset()
    assert both(history, stale_after=840) == {JOB.id}


def test_idle_since_is_the_first_idle_reading_of_the_run() -> None:
    tracker = StaleTracker(1800, 5)
    for snapshot in every(60, 1200):
        tracker.update(snapshot)
    assert tracker.idle_since("gpu01", JOB.id) == T0
    assert tracker.stale("gpu01") == frozenset()
    tracker.update(idle_host(T0 + 1260, 50.0))
    assert tracker.idle_since("gpu01", JOB.id) is None
    tracker.update(idle_host(T0 + 1320))
    assert tracker.idle_since("gpu01", JOB.id) == T0 + 1320
    tracker.forget("gpu01")
    assert tracker.idle_since("gpu01", JOB.id) is None


def test_tracker_from_config_uses_the_config_values() -> None:
    tracker = StaleTracker.from_config(Config(stale_after=0, stale_util_percent=50))
    assert tracker.update(idle_host(T0, 40.0)) == {JOB.id}


def _random_history(rng: random.Random, steps: int) -> list[HostSnapshot]:
    """A host whose containers come, go, restart and idle, with every kind of bad reading."""
    names = ["alice-a", "bob-b", "chen-c"]
    ids = {name: ctr(name).id for name in names}
    started = dict.fromkeys(names, T0 - 100)
    time, history = T0, []
    for _ in range(steps):
        time += rng.choice([2, 2, 2, 30, 60, 299, 301, 400, -5])
        if rng.random() < 0.1:
            ids[rng.choice(names)] = f"{rng.getrandbits(256):064x}"
        if rng.random() < 0.1:
            started[rng.choice(names)] = time
        history.append(_random_snapshot(rng, time, names, ids, started))
    return history


def _random_snapshot(
    rng: random.Random,
    time: float,
    names: list[str],
    ids: dict[str, str],
    started: dict[str, float],
) -> HostSnapshot:
    if rng.random() < 0.05:
        return snap(time=time, state=HostState.TIMEOUT, error="timed out")
    utils = [rng.choice([0.0, 3.0, 5.0, 5.5, 60.0, None]) for _ in range(3)]
    gpus = tuple(
        gpu(i, u, 1000, error="lost" if rng.random() < 0.03 else None) for i, u in enumerate(utils)
    )
    containers, procs = [], []
    for n, name in enumerate(names):
        if rng.random() < 0.1:
            continue
        state = rng.choice(["running"] * 6 + ["exited", "paused"])
        c = ctr(name, state=state, gpus=(n,), container_id=ids[name], started_at=started[name])
        c = dataclasses.replace(c, gpu_memory_used=rng.choice([None, 0, 10**9]))
        containers.append(c)
        if rng.random() < 0.7:
            procs.append(proc(n + 10, rng.choice([n, (n + 1) % 3]), container=c))
    result = snap(
        time=time,
        gpus=gpus if rng.random() > 0.05 else (),
        gpu_processes=tuple(procs),
        containers=tuple(containers),
        stale={Section.GPU: 9.0} if rng.random() < 0.05 else {},
    )
    if rng.random() < 0.05:
        result = dataclasses.replace(
            result, containers=(), docker_error="Docker daemon not running"
        )
    return result


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("stale_after", [0.0, 6.0, 60.0])
def test_tracker_agrees_with_the_pure_function_on_random_histories(
    seed: int, stale_after: float
) -> None:
    rng = random.Random(seed)
    history = _random_history(rng, 150)
    tracker = StaleTracker(stale_after, 5.0)
    seen_stale = 0
    for end in range(1, len(history) + 1):
        expected = stale_containers(history[:end], stale_after=stale_after, util_percent=5.0)
        assert tracker.update(history[end - 1]) == expected, f"seed {seed} step {end - 1}"
        seen_stale += len(expected)
    assert seen_stale > 0  # the histories do exercise the rule


def test_exited_for_cleanup_lists_long_exited_and_dead_containers_oldest_first() -> None:
    week = 7 * 86400
    old = ctr("alice-old", state="exited", finished_at=T0 - week - 10)
    older_dead = ctr("bob-dead", state="dead", finished_at=T0 - 2 * week)
    recent = ctr("chen-new", state="exited", finished_at=T0 - week + 10)
    unknown = ctr("dana-x", state="exited", finished_at=None)
    running = ctr("eve-run", finished_at=T0 - 3 * week)
    host = snap(containers=(old, recent, unknown, running, older_dead))
    assert exited_for_cleanup(host, week, T0) == [older_dead, old]
    assert exited_for_cleanup(host) == [older_dead, old]  # defaults: 7 days, snapshot time
    assert exited_for_cleanup(host, 0, T0 + week) == [older_dead, old, recent]
