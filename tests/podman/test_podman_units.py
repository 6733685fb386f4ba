"""podman's part of the probe output and the podman action programs, without running podman."""

from __future__ import annotations

import pytest

from clustertop.actions.model import ContainerTarget, Verb
from clustertop.actions.scripts import action_script, logs_command
from clustertop.model.owners import DEFAULT_RULE
from clustertop.sources.ssh.podman import read_podman
from tests.parsers._fixtures import read_fixture

PS = read_fixture("podman/this-machine-4.3.1/podman_ps_rootful.json")
CID = "5da8459e6d35986c110fdae4c8d30e07cebfa69f5b06808911533b2f21efb30b"


def test_a_host_without_podman_sends_no_part() -> None:
    assert read_podman({"": "", "logs": ""}, DEFAULT_RULE) is None


def test_the_real_list_gives_podman_containers_with_owners() -> None:
    found = read_podman({"podman": PS + "\n\n@rc 0\n"}, DEFAULT_RULE)
    assert found is not None and found.error is None
    (row,) = found.containers
    assert (row.id, row.name, row.engine, row.owner, row.state) == (
        CID, "alice-train", "podman", "alice", "running")  # fmt: skip


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("Error: storage is locked\n\n@rc 125", "podman ps: Error: storage is locked"),
        ("\n@rc 124", "podman ps: no answer in time"),
        ("\n@rc 1", "podman ps failed (exit status 1)"),
        ('[{"Id": \n\n@rc 0', "podman ps: not JSON (Expecting value)"),
        ("[{]", "podman ps: output cut short (no exit status)"),  # cut short: no status line
    ],
)
def test_a_failed_or_garbled_list_says_why(body: str, error: str) -> None:
    found = read_podman({"podman": body}, DEFAULT_RULE)
    assert found is not None and found.containers == ()
    assert found.error is not None and found.error.startswith(error.split(" (", maxsplit=1)[0])


def _target(**changes: object) -> ContainerTarget:
    fields: dict[str, object] = {
        "host": "h1", "id": CID, "name": "alice-train", "image": "bb", "state": "running",
        "owner": "alice", "engine": "podman",
    }  # fmt: skip
    fields.update(changes)
    return ContainerTarget(**fields)  # type: ignore[arg-type]


def test_podman_programs_name_the_engine_and_docker_ones_stay_dockers() -> None:
    assert "ENGINE=podman\n" in action_script(Verb.STOP, _target())
    assert "ENGINE=podman\n" in logs_command(_target())
    assert "ENGINE=docker\n" in action_script(Verb.STOP, _target(engine="docker"))


@pytest.mark.parametrize("engine", ["crio", "podman; rm -rf /", ""])
def test_an_unknown_engine_is_refused_before_any_text_is_built(engine: str) -> None:
    with pytest.raises(ValueError, match="not a container engine"):
        action_script(Verb.KILL, _target(engine=engine))


def test_another_users_rootless_container_is_refused_with_the_reason() -> None:
    for build in (lambda t: action_script(Verb.STOP, t), logs_command):
        with pytest.raises(ValueError, match="rootless podman container of user 'zed'"):
            build(_target(rootless_user="zed"))
