"""Every container verb through real podman, as the local runner sends it (the sh programs)."""

from __future__ import annotations

import pytest

from clustertop.actions.local_runner import LocalActionRunner
from clustertop.actions.model import ContainerTarget, Outcome, Verb
from tests.podman.engine import Podman


@pytest.fixture
def runner(podman: Podman, monkeypatch: pytest.MonkeyPatch) -> LocalActionRunner:
    for key in ("CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"):
        monkeypatch.setenv(key, podman.env[key])
    return LocalActionRunner(timeout=60.0)


def _target(cid: str, name: str, state: str = "running") -> ContainerTarget:
    return ContainerTarget("localhost", cid, name, "bb", state, None, "podman")


async def test_restart_remove_and_force_remove(podman: Podman, runner: LocalActionRunner) -> None:
    cid, _ = podman.run("act-rst")
    before = podman.cli("inspect", "--format", "{{.State.StartedAt}}", cid)
    result = await runner.run(Verb.RESTART, _target(cid, "act-rst"))
    assert (result.outcome, result.detail) == (Outcome.DONE, "container restarted")
    assert podman.state(cid) == "running"
    assert podman.cli("inspect", "--format", "{{.State.StartedAt}}", cid) != before
    # A running container is not removed without force; with it, it is.
    result = await runner.run(Verb.REMOVE, _target(cid, "act-rst"))
    assert result.outcome is Outcome.FAILED
    assert result.detail == "container is running: not removed (force-remove stops and removes it)"
    result = await runner.run(Verb.FORCE_REMOVE, _target(cid, "act-rst"))
    assert (result.outcome, podman.state(cid)) == (Outcome.DONE, None)
    # Gone now: nothing to act on, said as such.
    result = await runner.run(Verb.STOP, _target(cid, "act-rst"))
    assert (result.outcome, result.detail) == (Outcome.GONE, f"no container {cid} on this host")


async def test_remove_an_exited_one(podman: Podman, runner: LocalActionRunner) -> None:
    cid, _ = podman.run("act-done", command="exit 3")
    podman.cli("wait", cid)
    result = await runner.run(Verb.REMOVE, _target(cid, "act-done", "exited"))
    assert (result.outcome, result.detail) == (Outcome.DONE, "container removed")
    assert podman.state(cid) is None
