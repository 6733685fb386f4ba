"""The local runner against a real engine (DOCKER_HOST): the same programs as over SSH."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

from clustertop.actions.audit import AuditedRunner, AuditLog
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.actions.model import Outcome, Verb
from tests.actions.helpers import (
    BUSY_LOGGER,
    container_state,
    container_target,
    read_lines,
    without_timestamp,
)
from tests.fleet.dockerd import DockerEngine
from tests.waiting import async_wait_for


async def test_stop_happens_on_the_engine(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    cid = docker_engine.run_container(container_name("pia-job"))
    try:
        runner = LocalActionRunner(docker_engine.host)
        result = await runner.run(Verb.STOP, container_target("local", docker_engine, cid))
        assert (result.outcome, result.detail) == (Outcome.DONE, "container stopped")
        assert container_state(docker_engine, cid) == "exited"
    finally:
        docker_engine.cli("rm", "--force", cid)


async def test_replaced_container_is_gone_and_the_new_one_runs(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    name = container_name("quinn-job")
    old = container_target("local", docker_engine, docker_engine.run_container(name))
    docker_engine.cli("rm", "--force", name)
    new = docker_engine.run_container(name)
    try:
        result = await LocalActionRunner(docker_engine.host).run(Verb.FORCE_REMOVE, old)
        assert result.outcome is Outcome.GONE
        assert container_state(docker_engine, new) == "running"
    finally:
        docker_engine.cli("rm", "--force", new)


async def test_no_engine_is_a_failure_in_dockers_words(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    cid = docker_engine.run_container(container_name("rosa-job"))
    try:
        target = container_target("local", docker_engine, cid)
        nowhere = f"unix://{docker_engine.root}/missing.sock"
        result = await LocalActionRunner(nowhere).run(Verb.KILL, target)
        assert result.outcome is Outcome.FAILED
        assert "missing.sock" in result.detail
        assert container_state(docker_engine, cid) == "running"
    finally:
        docker_engine.cli("rm", "--force", cid)


async def test_local_log_follows_and_closes(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    cid = docker_engine.run_container(container_name("sam-log"), *BUSY_LOGGER)
    try:
        stream = LocalActionRunner(docker_engine.host).logs(
            container_target("local", docker_engine, cid), lines=5
        )
        assert stream is not None
        seen = await read_lines(stream, lambda got: len(got) == 8)
        await stream.aclose()
        numbers = [int(without_timestamp(text).removeprefix("line ")) for text in seen]
        assert numbers == list(range(numbers[0], numbers[0] + 8))
    finally:
        docker_engine.cli("rm", "--force", cid)


async def test_a_stop_cancelled_by_quitting_still_happens_and_is_recorded(
    docker_engine: DockerEngine, container_name: Callable[[str], str], tmp_path: Path
) -> None:
    # busybox ignores SIGTERM: this stop takes its 3 s grace period, and the caller goes away.
    cid = docker_engine.run_container(
        container_name("quit-job"), extra_args=("--stop-timeout", "3")
    )
    path = tmp_path / "audit.jsonl"
    try:
        runner = AuditedRunner(LocalActionRunner(docker_engine.host), AuditLog(path))
        target = container_target("local", docker_engine, cid)
        caller = asyncio.ensure_future(runner.run_all(Verb.STOP, [target]))
        await async_wait_for(path.exists, 10, what="the intent line")
        caller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await caller
        assert await runner.settle(runner.timeout) == 0
        assert container_state(docker_engine, cid) == "exited"
        entries = [json.loads(line) for line in path.read_text().splitlines()]
        assert [(e["event"], e.get("outcome"), e["target"]["id"]) for e in entries] == [
            ("intent", None, cid),
            ("outcome", "done", cid),
        ]
    finally:
        docker_engine.cli("rm", "--force", cid)
