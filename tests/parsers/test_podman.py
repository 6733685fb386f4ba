"""podman ps JSON and conmon command lines from real podman 4.3.1 (rootful and rootless)."""

from __future__ import annotations

import pytest

from clustertop.parsers.podman import conmon_container, parse_podman_ps
from tests.parsers._fixtures import read_fixture

DIR = "podman/this-machine-4.3.1"


@pytest.mark.parametrize(
    ("name", "cid", "pid"),
    [
        ("podman_ps_rootful.json",
         "5da8459e6d35986c110fdae4c8d30e07cebfa69f5b06808911533b2f21efb30b", 861),
        ("podman_ps_rootless.json",
         "c4af377f8153784407d05e9d40f0ce0c33cbc246993ec5f3bd2c8eac7c292a9f", 1555),
    ],
)  # fmt: skip
def test_podman_ps_captures(name: str, cid: str, pid: int) -> None:
    (found,) = parse_podman_ps(read_fixture(f"{DIR}/{name}"))
    assert (found.id, found.name, found.state, found.pid) == (cid, "alice-train", "running", pid)
    assert dict(found.labels) == {"owner": "alice"}
    assert found.image == "localhost/bb:latest"
    assert found.finished_at is None  # Go's zero time means "never exited"


@pytest.mark.parametrize("text", ["", "null", "{}", '[1, {"Id": "short"}]', "not json"])
def test_podman_ps_bad_input(text: str) -> None:
    try:
        assert parse_podman_ps(text) == []
    except ValueError as exc:
        assert "podman ps" in str(exc)


@pytest.mark.parametrize(
    "name", ["podman_ps_processes_rootful.txt", "podman_ps_processes_rootless.txt"]
)
def test_conmon_command_lines(name: str) -> None:
    conmon = read_fixture(f"{DIR}/{name}").splitlines()[1]
    argv = conmon.split()[3:]  # PID PPID USER COMMAND...
    found = conmon_container(argv)
    assert found is not None
    assert found[1] == "alice-train" and len(found[0]) == 64


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["sleep", "300"],
        ["/usr/bin/conmon", "-c", "nothex"],
        ["/tmp/notconmon2", "-c", "a" * 64],
    ],
)
def test_not_conmon(argv: list[str]) -> None:
    assert conmon_container(argv) is None
