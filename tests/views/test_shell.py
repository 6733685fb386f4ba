"""`o` opens a shell: the command built for each kind of host, and the real suspend in tmux."""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from clustertop.inventory.hosts import HostSpec
from clustertop.ui.shell import ShellLauncher, launcher_for
from tests.ui.helpers import host, scripted_app, until, wait_rows
from tests.views.helpers import open_host
from tests.views.tmux import TMUX, tmux_session
from tests.waiting import wait_for

needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux not installed")


def test_ssh_uses_the_same_alias_user_port_and_config() -> None:
    spec = HostSpec("gpu01", "alice", 2222)
    launcher = ShellLauncher("ssh", Path("/etc/lab/ssh_config"), {spec.display: spec})
    assert launcher.argv("alice@gpu01:2222") == [
        "ssh",
        "-F",
        "/etc/lab/ssh_config",
        "-p",
        "2222",
        "-l",
        "alice",
        "--",
        "gpu01",
    ]
    plain = HostSpec("gpu02")
    assert ShellLauncher("ssh", None, {"gpu02": plain}).argv("gpu02") == ["ssh", "--", "gpu02"]
    assert launcher.argv("not-a-host-of-ours") is None


def test_a_host_named_like_an_option_stays_a_host() -> None:
    spec = HostSpec("-oProxyCommand=touch /tmp/pwned")
    argv = ShellLauncher("ssh", None, {spec.display: spec}).argv(spec.display)
    assert argv == ["ssh", "--", "-oProxyCommand=touch /tmp/pwned"]


def test_local_runs_the_users_shell_and_the_demo_none() -> None:
    assert ShellLauncher("local", environ={"SHELL": "/usr/bin/zsh"}).argv("me") == ["/usr/bin/zsh"]
    assert ShellLauncher("local", environ={}).argv("me") == ["/bin/sh"]
    assert launcher_for(demo=True, ssh_config=None, specs=[HostSpec("a")]).argv("a") is None
    assert launcher_for(demo=False, ssh_config=None, specs=[]).mode == "local"
    assert launcher_for(demo=False, ssh_config=None, specs=[HostSpec("a")]).mode == "ssh"


async def test_o_is_hidden_without_a_shell_and_explains_headless() -> None:
    app, _ = scripted_app([host("a")])
    async with app.run_test() as pilot:
        await wait_rows(app.grid.table, 1)
        assert "o" not in app.screen.active_bindings
    local = ShellLauncher("local", environ={"SHELL": "/bin/true"})
    app, _ = scripted_app([host("a")], shell=local)
    async with app.run_test(notifications=True) as pilot:
        await wait_rows(app.grid.table, 1)
        assert "o" in app.screen.active_bindings
        await pilot.press("o")
        await until(lambda: app.screen.query("Toast"), "a notification")
        assert "cannot hand over to a shell" in str(app.screen.query("Toast").first().render())
        assert app.is_running
        screen = await open_host(pilot, app, "a")  # `o` on a host screen: the same
        assert "o" in screen.active_bindings
        assert app.shell_target() == "a"


def _refused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{tmp_path / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),  # never the developer's own config
        "TERM": "tmux-256color",
        "LANG": "C.UTF-8",
        **extra,
    }


@needs_tmux
def test_o_suspends_runs_the_users_ssh_and_resumes(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "home").mkdir()
    record = tmp_path / "argv.json"
    fake_ssh = bin_dir / "ssh"
    fake_ssh.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
    )
    fake_ssh.chmod(0o755)
    config = tmp_path / "ssh_config"
    config.write_text(f"Host box\n  HostName 127.0.0.1\n  Port {_refused_port()}\n")
    argv = [sys.executable, "-m", "clustertop", "-F", str(config), "box"]
    with tmux_session(tmp_path) as term:
        term.start(argv, _env(tmp_path), (120, 30))
        term.wait_for_text("box")
        term.keys("o")
        wait_for(record.exists, what="ssh to run")
        assert json.loads(record.read_text()) == ["-F", str(config), "--", "box"]
        term.wait_for_text("Quit")  # the TUI is back
        # ...and takes keys: a new input thread runs (it once died on resume, a closed pipe).
        term.keys("s")
        wait_for(
            lambda: "sorted by" in (shown := term.screen()) and "sorted by Host" not in shown,
            what="the next sort after the shell",
        )
        assert term.alive()
        term.keys("q")
        wait_for(lambda: not term.alive(), what="clustertop to quit")


@needs_tmux
def test_mine_starts_filtered_to_the_login_name(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    argv = [sys.executable, "-m", "clustertop", "--demo", "--mine"]
    with tmux_session(tmp_path) as term:
        term.start(argv, _env(tmp_path), (160, 30))
        term.wait_for_text(f"owner: {getpass.getuser()}")
        term.keys("q")


@needs_tmux
def test_c_in_the_free_view_reaches_the_terminal_clipboard(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    argv = [sys.executable, "-m", "clustertop", "--demo"]
    with tmux_session(tmp_path, "set -g set-clipboard on\n") as term:
        term.start(argv, _env(tmp_path), (160, 30))
        term.wait_for_text("gpu01")
        term.keys("f")
        term.wait_for_text("Ready line")
        term.keys("c")
        copied = wait_for(lambda: term.buffer().strip(), what="an OSC 52 copy")
        assert copied == "ssh gpu15 CUDA_VISIBLE_DEVICES=0,1,2"
        term.wait_for_text("Copied ssh line")  # the notification says so
        term.keys("q")
