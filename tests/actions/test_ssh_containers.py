"""Container actions over SSH on the fleet's real engines, checked with the engine's own CLI."""

from __future__ import annotations

from collections.abc import Callable

from clustertop.actions.model import Outcome, Verb
from tests.actions.helpers import container_state, container_target, ssh_runner, started_at
from tests.fleet.fleet import Fleet
from tests.waiting import wait_for

Names = Callable[[str], str]


async def test_stop_kill_and_restart_happen_on_the_host(
    clean_fleet: Fleet, container_name: Names
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    ids = {verb: engine.run_container(container_name(f"alice-{verb}")) for verb in ("s", "k", "r")}
    before = started_at(engine, ids["r"])
    async with ssh_runner(clean_fleet, "h1") as runner:
        stop = await runner.run(Verb.STOP, container_target("h1", engine, ids["s"]))
        kill = await runner.run(Verb.KILL, container_target("h1", engine, ids["k"]))
        restart = await runner.run(Verb.RESTART, container_target("h1", engine, ids["r"]))
    assert (stop.outcome, stop.detail) == (Outcome.DONE, "container stopped")
    assert container_state(engine, ids["s"]) == "exited"
    assert (kill.outcome, kill.detail) == (Outcome.DONE, "container killed")
    wait_for(lambda: container_state(engine, ids["k"]) == "exited", 10, what="killed exits")
    assert (restart.outcome, restart.detail) == (Outcome.DONE, "container restarted")
    assert container_state(engine, ids["r"]) == "running"
    assert started_at(engine, ids["r"]) != before


async def test_remove_takes_an_exited_container_but_not_a_running_one(
    clean_fleet: Fleet, container_name: Names
) -> None:
    engine = clean_fleet["h2"].docker
    assert engine is not None
    exited = engine.run_container(container_name("bob-done"), "true", detach=False)
    running = engine.run_container(container_name("bob-busy"))
    async with ssh_runner(clean_fleet, "h2") as runner:
        removed = await runner.run(Verb.REMOVE, container_target("h2", engine, exited))
        refused = await runner.run(Verb.REMOVE, container_target("h2", engine, running))
        assert container_state(engine, running) == "running"
        forced = await runner.run(Verb.FORCE_REMOVE, container_target("h2", engine, running))
    assert (removed.outcome, removed.detail) == (Outcome.DONE, "container removed")
    assert container_state(engine, exited) is None
    assert refused.outcome is Outcome.FAILED
    assert refused.detail == "container is running: not removed (force-remove stops and removes it)"
    assert forced.outcome is Outcome.DONE
    assert container_state(engine, running) is None


async def test_replaced_container_is_gone_and_the_new_one_keeps_running(
    clean_fleet: Fleet, container_name: Names
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    name = container_name("carol-job")
    old = container_target("h1", engine, engine.run_container(name))
    engine.cli("rm", "--force", name)
    new = engine.run_container(name)  # same name, another container
    async with ssh_runner(clean_fleet, "h1") as runner:
        results = [await runner.run(verb, old) for verb in (Verb.KILL, Verb.FORCE_REMOVE)]
    assert [r.outcome for r in results] == [Outcome.GONE, Outcome.GONE]
    assert results[0].detail == f"no container {old.id} on this host"
    assert container_state(engine, new) == "running"


async def test_renamed_container_is_changed_and_left_alone(
    clean_fleet: Fleet, container_name: Names
) -> None:
    engine = clean_fleet["h1"].docker
    assert engine is not None
    cid = engine.run_container(container_name("dave-a"))
    target = container_target("h1", engine, cid)
    engine.cli("rename", cid, container_name("erin-b"))
    async with ssh_runner(clean_fleet, "h1") as runner:
        result = await runner.run(Verb.STOP, target)
    assert result.outcome is Outcome.CHANGED
    assert f"now named {container_name('erin-b')}" in result.detail
    assert container_state(engine, cid) == "running"


async def test_a_docker_stop_longer_than_the_timeout_is_reported(
    clean_fleet: Fleet, container_name: Names
) -> None:
    engine = clean_fleet["h3"].docker
    assert engine is not None
    # busybox as PID 1 ignores SIGTERM: docker stop waits the whole stop timeout (20 s).
    cid = engine.run_container(container_name("frank-slow"), extra_args=["--stop-timeout", "20"])
    assert engine.cli("inspect", "--format", "{{.Config.StopTimeout}}", cid).stdout.strip() == "20"
    async with ssh_runner(clean_fleet, "h3", timeout=1.0) as runner:
        result = await runner.run(Verb.STOP, container_target("h3", engine, cid))
        after = await runner.run(Verb.FORCE_REMOVE, container_target("h3", engine, cid))
    assert (result.outcome, result.detail) == (
        Outcome.FAILED,
        "no answer within 1 s (it may still happen)",
    )
    assert after.outcome is Outcome.DONE, "the connection still works after a timeout"
