"""Docker inspect parsing on the real captures, docker ps style status lines, and CLI errors."""

from __future__ import annotations

import calendar
import json
from typing import Any

import pytest

from clustertop.model.owners import OwnerRule
from clustertop.parsers.docker import (
    INSPECT_TEMPLATE,
    container_from_inspect,
    docker_error,
    parse_inspect_lines,
    requested_gpus,
)
from clustertop.parsers.docker_status import human_duration, human_status, parse_docker_time
from tests.parsers._fixtures import read_fixture

DAY = 86400.0


def _load(name: str) -> dict[str, Any]:
    data = json.loads(read_fixture(f"docker/{name}"))
    return data[0] if isinstance(data, list) else data


def _subset(full: dict[str, Any]) -> dict[str, Any]:
    """What INSPECT_TEMPLATE prints for a container, built from its full inspect JSON."""
    return {
        "Id": full["Id"],
        "Name": full["Name"],
        "Created": full["Created"],
        "Config": {"Image": full["Config"]["Image"], "Labels": full["Config"]["Labels"]},
        "State": full["State"],
        "HostConfig": {"DeviceRequests": full["HostConfig"].get("DeviceRequests")},
        "LogPath": full["LogPath"],
    }


def test_inspect_2019_node_container() -> None:
    full = _load("inspect-container-node-overlay2-2019.json")
    started = calendar.timegm((2019, 3, 7, 3, 59, 12)) + 0.405871518
    container = container_from_inspect(full, now=started + 3 * 60 + 5)
    assert container.id == "86199ab4c77bb43a21bef6b7e711bed3c30baa7dc50de3182de3c73d2ba116b7"
    assert (container.name, container.image, container.state) == ("cen", "censerver", "running")
    assert container.status == "Up 3 minutes"
    assert container.created == pytest.approx(
        calendar.timegm((2019, 3, 7, 3, 59, 11)) + 0.534433546
    )
    assert container.started_at == pytest.approx(started)
    assert (container.finished_at, container.exit_code, container.pid) == (None, None, 12680)
    assert container.owner == "cen"  # no owner label: the name's leading part
    assert dict(container.labels) == {}
    assert container.gpus == ()
    assert requested_gpus(full) == ()


def test_inspect_compose_container_labels_and_previous_finish() -> None:
    full = _load("inspect-container-redis-compose-btrfs-springboot.json")
    now = calendar.timegm((2023, 2, 23, 15, 0, 0))
    container = container_from_inspect(full, now=now)
    assert (container.name, container.image) == ("redis-docker-redis-1", "redis:7.0")
    assert container.labels["com.docker.compose.service"] == "redis"
    assert len(container.labels) == 10
    assert container.finished_at == pytest.approx(
        calendar.timegm((2023, 2, 23, 12, 46, 42)) + 0.013469854
    )
    assert container.exit_code is None  # running: the old exit code is not this run's
    assert container.status == "Up 2 hours"  # started 12:55:27, 2 h 4 min before `now`
    assert container.pid == 38657
    label_rule = OwnerRule(labels=("com.docker.compose.project",))
    assert container_from_inspect(full, now=now, owner_rule=label_rule).owner == "redis-docker"


def test_inspect_host_network_container() -> None:
    full = _load("inspect-container-redis-host-network-springboot.json")
    container = container_from_inspect(full, now=calendar.timegm((2023, 2, 23, 14, 19, 37)))
    assert container.id.startswith("111b22dba993")
    assert (container.finished_at, container.status) == (None, "Up 29 seconds")


@pytest.mark.parametrize(
    "name",
    [
        "inspect-container-node-overlay2-2019.json",
        "inspect-container-redis-compose-btrfs-springboot.json",
        "inspect-container-redis-host-network-springboot.json",
    ],
)
def test_template_subset_reads_like_the_full_object(name: str) -> None:
    full = _load(name)
    line = json.dumps(_subset(full))
    (subset,) = parse_inspect_lines(line + "\n")
    now = 1_700_000_000.0
    assert container_from_inspect(subset, now=now) == container_from_inspect(full, now=now)


def test_image_inspect_is_not_a_container() -> None:
    with pytest.raises(ValueError, match="not a container"):
        container_from_inspect(_load("inspect-image-buildkit-2021.json"), now=0.0)
    with pytest.raises(ValueError):
        container_from_inspect({"Id": "x", "State": "running"}, now=0.0)


def test_template_asks_for_exactly_the_needed_paths() -> None:
    for path in (".Id", ".Name", ".Created", ".Config.Image", ".Config.Labels", ".State",
                 ".HostConfig.DeviceRequests", ".LogPath"):  # fmt: skip
        assert "{{json " + path + "}}" in INSPECT_TEMPLATE
    assert "\n" not in INSPECT_TEMPLATE


def test_parse_inspect_lines_keeps_odd_characters_inside_values() -> None:
    label = 'x"y [red]z\x1b[2J \u0085 \u2028 end'
    line = json.dumps({"Id": "a", "Config": {"Labels": {"owner": label}}}, ensure_ascii=False)
    assert "\u0085" in line  # Go's JSON leaves U+0085 raw; str.splitlines() would cut here
    objects = parse_inspect_lines(f"\n{line}\n\n{line}\n")
    assert [obj["Config"]["Labels"]["owner"] for obj in objects] == [label, label]


@pytest.mark.parametrize("bad", ["Error: No such object: abc", "[1, 2]", '{"Id": "a"', "null"])
def test_parse_inspect_lines_rejects_malformed_lines(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_inspect_lines('{"Id": "ok"}\n' + bad + "\n")
    assert parse_inspect_lines("") == []


def _requests(*requests: dict[str, Any]) -> dict[str, Any]:
    return {"HostConfig": {"DeviceRequests": list(requests)}}


def _gpu(count: int = 0, ids: list[str] | None = None, driver: str = "") -> dict[str, Any]:
    """One request as `docker run --gpus` makes it (capabilities [["gpu"]])."""
    return {"Driver": driver, "Count": count, "DeviceIDs": ids, "Capabilities": [["gpu"]]}


@pytest.mark.parametrize(
    ("obj", "gpus"),
    [
        ({}, ()),
        ({"HostConfig": {"DeviceRequests": None}}, ()),
        (_requests(_gpu(-1)), "all"),
        (_requests({"Driver": "nvidia", "Count": -1, "Capabilities": None}), "all"),
        (_requests(_gpu(ids=["0", "2"])), ("0", "2")),
        (_requests(_gpu(ids=["GPU-abc"])), ("GPU-abc",)),
        (_requests(_gpu(ids=["1,3"])), ("1", "3")),
        (_requests(_gpu(2)), ("0", "1")),
        (_requests({"Driver": "", "Count": 1, "Capabilities": [["nvidia", "compute"]]}), ("0",)),
        (_requests(_gpu(-1, driver="amd")), ()),
        (_requests({"Driver": "", "Count": -1, "Capabilities": [["tpu"]]}), ()),
        (_requests(_gpu(ids=["1"]), _gpu(ids=["1", "2"], driver="nvidia")), ("1", "2")),
    ],
)
def test_requested_gpus(obj: dict[str, Any], gpus: object) -> None:
    assert requested_gpus(obj) == gpus


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-30, "Less than a second"),
        (0.5, "Less than a second"),
        (1, "1 second"),
        (59.9, "59 seconds"),
        (60, "About a minute"),
        (119, "About a minute"),
        (120, "2 minutes"),
        (3599, "59 minutes"),
        (3600, "About an hour"),
        (5399, "About an hour"),
        (5400, "2 hours"),
        (47 * 3600, "47 hours"),
        (2 * DAY, "2 days"),
        (13 * DAY, "13 days"),
        (14 * DAY, "2 weeks"),
        (59 * DAY, "8 weeks"),
        (60 * DAY, "2 months"),
        (729 * DAY, "24 months"),
        (730 * DAY, "2 years"),
    ],
)
def test_human_duration_matches_docker(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


T0 = "2024-05-01T10:00:00.123456789Z"
ZERO = "0001-01-01T00:00:00Z"
NOW = calendar.timegm((2024, 5, 1, 10, 0, 0)) + 0.123456789


UP = {"Status": "running", "Running": True, "StartedAt": T0, "FinishedAt": ZERO}
ENDED = {"StartedAt": T0, "FinishedAt": T0}


@pytest.mark.parametrize(
    ("state", "after", "status"),
    [
        (UP, 180, "Up 3 minutes"),
        ({**UP, "Status": "paused", "Paused": True}, 7200, "Up 2 hours (Paused)"),
        ({**UP, "Health": {"Status": "starting"}}, 5, "Up 5 seconds (health: starting)"),
        ({**UP, "Health": {"Status": "unhealthy"}}, 5, "Up 5 seconds (unhealthy)"),
        (
            {**UP, **ENDED, "Status": "restarting", "Restarting": True, "ExitCode": 1},
            3,
            "Restarting (1) 3 seconds ago",
        ),
        ({**ENDED, "Status": "exited", "ExitCode": 137}, 5 * DAY, "Exited (137) 5 days ago"),
        ({"Status": "created", "StartedAt": ZERO, "FinishedAt": ZERO}, 100, "Created"),
        ({**ENDED, "Status": "dead", "Dead": True}, 100, "Dead"),
        ({**ENDED, "Status": "removing"}, 100, "Removal In Progress"),
        (UP, -40, "Up Less than a second"),  # the host's clock runs ahead of ours
    ],
)
def test_human_status_like_docker_ps(state: dict[str, Any], after: float, status: str) -> None:
    assert human_status(state, NOW + after) == status


def test_states_and_exit_codes_through_container_from_inspect() -> None:
    base = {"Id": "f" * 64, "Name": "/bob-x", "Config": {"Image": "img", "Labels": None}}
    states = [
        {**ENDED, "Status": "exited", "ExitCode": 3, "Pid": 0},
        {"Status": "created", "ExitCode": 0, "Pid": 0, "StartedAt": ZERO, "FinishedAt": ZERO},
        {**ENDED, "Running": False, "ExitCode": 2},  # no Status key (old engines)
        {**UP, "ExitCode": 0, "Pid": 4242},
    ]
    containers = [container_from_inspect({**base, "State": s}, now=NOW) for s in states]
    assert [(c.state, c.exit_code, c.pid, c.owner) for c in containers] == [
        ("exited", 3, None, "bob"),
        ("created", None, None, "bob"),
        ("exited", 2, None, "bob"),
        ("running", None, 4242, "bob"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-03-07T03:59:11.534433546Z", calendar.timegm((2019, 3, 7, 3, 59, 11)) + 0.534433546),
        ("2019-03-07T03:59:11Z", calendar.timegm((2019, 3, 7, 3, 59, 11))),
        ("2019-03-07T05:59:11.5+02:00", calendar.timegm((2019, 3, 7, 3, 59, 11)) + 0.5),
        ("2019-03-06T22:59:11-0500", calendar.timegm((2019, 3, 7, 3, 59, 11))),
        (ZERO, None),
        ("", None),
        (None, None),
        (1551931151, None),
        ("2019-13-45T99:00:00Z", None),
        ("yesterday", None),
    ],
)
def test_parse_docker_time(text: object, expected: float | None) -> None:
    assert parse_docker_time(text) == (pytest.approx(expected) if expected is not None else None)


DENIED = "permission denied on /var/run/docker.sock (not in the docker group?)"


@pytest.mark.parametrize(
    "name",
    ["docker-ps-permission-denied-api-v1.24.txt", "docker-ps-permission-denied-api-v1.49.txt"],
)
def test_permission_denied_captures(name: str) -> None:
    assert docker_error(read_fixture(f"errors/{name}"), 1) == DENIED


# "Cannot connect", "permission denied" and "not found" are what docker CLI 20.10.24 and 28.2.2
# and sh/bash printed here (test_docker_engine.py reproduces them live); the "failed to connect
# to the docker API" wording is that of newer CLIs (Docker Desktop), not captured here.
@pytest.mark.parametrize(
    ("output", "returncode", "message"),
    [
        (
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
            "Is the docker daemon running?\n",
            1,
            "Docker daemon not running (Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock)",
        ),
        (
            "failed to connect to the docker API at unix:///var/run/docker.sock; check if the "
            "path is correct and if the daemon is running: dial unix /var/run/docker.sock: "
            "connect: no such file or directory\n",
            1,
            "Docker daemon not running (Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock)",
        ),
        (
            "permission denied while trying to connect to the Docker daemon socket at "
            'unix:///tmp/x/docker.sock: Get "http://%2Ftmp%2Fx%2Fdocker.sock/v1.50/containers/'
            'json": dial unix /tmp/x/docker.sock: connect: permission denied\n',
            1,
            "permission denied on /tmp/x/docker.sock (not in the docker group?)",
        ),
        ("sh: 1: docker: not found\n", 127, "docker not installed"),
        ("bash: docker: command not found\n", 127, "docker not installed"),
        ("", 127, "docker not installed"),
        ("Error response from daemon: broke\nmore\n", 1, "Error response from daemon: broke"),
        ("", 1, "docker failed (exit status 1)"),
        ("", 0, None),
        ('{"Config":{"Labels":{"x":"Cannot connect to the Docker daemon at y. Is"}}}\n', 0, None),
    ],
)
def test_docker_error(output: str, returncode: int, message: str | None) -> None:
    assert docker_error(output, returncode) == message
