"""`clustertop serve`: the command each browser session runs, its checks, and the exposure warning."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clustertop.cli.main import main
from clustertop.cli.serve import is_loopback, served_argv
from tests.waiting import wait_for
from tests.web.server import serve


def test_sessions_are_readonly_unless_actions_are_allowed() -> None:
    args = ["--demo", "-F", "my config", "--", "-odd-host"]
    assert served_argv(args, allow_actions=False) == [
        sys.executable,
        "-m",
        "clustertop",
        "--readonly",  # before the arguments: after `--` it would be a host name
        *args,
    ]
    assert served_argv(args, allow_actions=True) == [sys.executable, "-m", "clustertop", *args]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("gpu-portal.example.org", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--once"], "--once cannot be served"),
        (["--json", "--once"], "cannot be served"),
        (["gpu[03-01]"], "gpu[03-01]"),
        (["--interval", "soon"], "interval"),
    ],
)
def test_mistakes_are_reported_before_serving(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["serve", "--port", "1", *args]) == 1
    assert message in capsys.readouterr().err


def test_a_non_loopback_address_warns_that_anyone_can_see_the_cluster(tmp_path: Path) -> None:
    with serve(["--host", "0.0.0.0", "--demo"], tmp_path):
        log = tmp_path / "serve.log"
        text = wait_for(lambda: "Serving" in log.read_text() and log.read_text(), what="banner")
    assert "warning: listening on 0.0.0.0: anyone who can reach this address" in text
    assert "can see the cluster" in text


def test_loopback_serves_without_warning(tmp_path: Path) -> None:
    with serve(["--demo"], tmp_path):
        log = tmp_path / "serve.log"
        text = wait_for(lambda: "Serving" in log.read_text() and log.read_text(), what="banner")
    assert "warning" not in text
    assert "--readonly" in text  # the command it serves, as printed at start


def test_actions_are_refused_without_authentication(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["serve", "--port", "1", "--no-auth", "--allow-actions", "--demo"]) == 1
    err = capsys.readouterr().err
    assert "--allow-actions needs authentication: it cannot be used with --no-auth" in err


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_the_session_cap_is_at_least_one(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--max-sessions", value, "--demo"])
    assert f"--max-sessions: expected a whole number of at least 1, got '{value}'" in (
        capsys.readouterr().err
    )
