"""The command line contract: version, usage errors, --once output for this machine."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clustertop import __version__
from tests.fleet.dockerd import DockerEngine


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    return subprocess.run(
        [sys.executable, "-m", "clustertop", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
        check=False,
    )


def test_version() -> None:
    done = _run("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"clustertop {__version__}"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--json"], "--json needs --once"),
        (["--once", "--interval", "soon"], "interval"),
        (["--once", "bad;host"], "bad;host"),
        (["--once", "@nogroup"], "nogroup"),
    ],
)
def test_usage_errors_exit_1_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    done = _run(*args, env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 1
    assert message in done.stderr
    assert done.stdout == ""


def test_config_error_names_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("interval = 'soon'\n")
    done = _run("--once", "--config", str(config))
    assert done.returncode == 1
    assert str(config) in done.stderr and "interval" in done.stderr


def test_once_json_for_this_machine(tmp_path: Path) -> None:
    missing = tmp_path / "no.sock"
    done = _run(
        "--once",
        "--json",
        env={"DOCKER_HOST": f"unix://{missing}", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["schema"] == 2
    [host] = doc["hosts"]
    assert host["state"] == "up"
    assert str(missing) in host["docker_error"]
    assert host["gpu_error"]  # no NVIDIA driver on this machine
    meminfo = Path("/proc/meminfo").read_text().split("\n")[0].split()
    assert host["memory"]["total"] == int(meminfo[1]) * 1024
    root = next(d for d in host["disks"] if d["mount"] == "/")
    vfs = os.statvfs("/")
    assert root["total"] == vfs.f_blocks * vfs.f_frsize
    assert host["processes"], "the top processes are listed"


def test_once_table_is_readable_text(tmp_path: Path) -> None:
    done = _run("--once", env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert done.returncode == 0
    first = done.stdout.splitlines()[0]
    assert first.split()[:3] == ["HOST", "STATE", "CPU"]
    assert "localhost" in done.stdout
    assert "\x1b" not in done.stdout


def test_once_mine_keeps_only_my_processes(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path / 'no.sock'}", "XDG_CONFIG_HOME": str(tmp_path)}
    me = getpass.getuser()
    everything = json.loads(_run("--once", "--json", env=env).stdout)
    assert everything["owner"] is None
    done = _run("--once", "--json", "--mine", env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["owner"] == me
    [host] = doc["hosts"]  # this test runs as someone with processes here
    assert host["processes"] and {p["user"] for p in host["processes"]} == {me}
    table = _run("--once", "--mine", env=env)
    assert table.stdout.startswith(f"Only {me}'s GPU processes, containers and processes: 1 of 1")


def test_once_for_an_owner_with_nothing_says_so(tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path / 'no.sock'}", "XDG_CONFIG_HOME": str(tmp_path)}
    nobody = "no-such-person\x1b[31m"
    doc = json.loads(_run("--once", "--json", "--owner", nobody, env=env).stdout)
    assert (doc["owner"], doc["hosts"], doc["users"]) == (nobody, [], [])
    table = _run("--once", "--owner", nobody, env=env)
    assert table.returncode == 0
    assert table.stdout.splitlines() == [
        "no-such-person\\x1b[31m has no GPU process, container or process on any of 1 hosts."
    ]


def test_config_show_lists_sources(tmp_path: Path) -> None:
    (tmp_path / "clustertop").mkdir()
    (tmp_path / "clustertop" / "config.toml").write_text("interval = 5\n")
    done = _run("config", "show", env={"XDG_CONFIG_HOME": str(tmp_path), "CLUSTERTOP_TIMEOUT": "7"})
    assert done.returncode == 0, done.stderr
    assert "interval" in done.stdout and "5" in done.stdout
    assert "CLUSTERTOP_TIMEOUT" in done.stdout
    over = _run("config", "show", "--interval", "9", env={"XDG_CONFIG_HOME": str(tmp_path)})
    line = next(x for x in over.stdout.splitlines() if x.startswith("interval"))
    assert "9" in line and "command line --interval" in line


def test_once_json_shows_the_engine_in_docker_host(
    docker_engine: DockerEngine, tmp_path: Path
) -> None:
    running = docker_engine.run_container("carol-notebook", "sleep", "600")
    exited = docker_engine.run_container("dave-eval", "sh", "-c", "exit 2", detach=False)
    labelled = docker_engine.run_container("job-17", "sleep", "600", labels={"owner": "erin"})
    try:
        done = _run(
            "--once",
            "--json",
            env={"DOCKER_HOST": docker_engine.host, "XDG_CONFIG_HOME": str(tmp_path)},
        )
        assert done.returncode == 0, done.stderr
        [host] = json.loads(done.stdout)["hosts"]
        assert host["docker_error"] is None
        by_id = {c["id"]: c for c in host["containers"]}
        assert (by_id[running]["state"], by_id[running]["owner"]) == ("running", "carol")
        assert (by_id[exited]["state"], by_id[exited]["owner"]) == ("exited", "dave")
        assert by_id[exited]["exit_code"] == 2
        assert by_id[labelled]["owner"] == "erin"
        assert by_id[running]["name"] == "carol-notebook"
    finally:
        docker_engine.cli("rm", "-f", running, exited, labelled, check=False)
