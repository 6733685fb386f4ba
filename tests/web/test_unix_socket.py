"""`clustertop serve --unix-socket`: private to its owner, reached through a tunnel as `ssh -L`."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import aiohttp
import pytest

from clustertop.cli.main import main
from tests.waiting import async_wait_for
from tests.web.browser import CHROMIUM, chromium, open_page
from tests.web.server import serve, tunnel


@pytest.fixture
def private(tmp_path: Path) -> Path:
    """A folder for the socket that only this user can enter, as serve makes it."""
    return tmp_path / "run" / "clustertop"


def _fails(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["serve", *args, "--demo"]) == 1
    return capsys.readouterr().err


def test_a_folder_others_can_enter_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    err = _fails(["--unix-socket", str(shared / "s")], capsys)
    assert f"others can enter the folder {shared} (mode 0755): chmod 700 it" in err
    (tmp_path / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir(mode=0o700)
    assert "is not a folder (a link or a file)" in _fails(
        ["--unix-socket", str(tmp_path / "link" / "s")], capsys
    )
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    (mine / "s").write_text("a file, not a socket")
    assert "exists and is not a socket" in _fails(["--unix-socket", str(mine / "s")], capsys)
    long = mine / ("x" * 120)
    assert "unix socket path too long" in _fails(["--unix-socket", str(long)], capsys)
    assert "--host and --unix-socket: choose one" in _fails(
        ["--host", "127.0.0.1", "--unix-socket", str(mine / "t")], capsys
    )


async def test_the_socket_needs_the_token_and_names_its_peer_by_uid(
    tmp_path: Path, private: Path
) -> None:
    private.mkdir(parents=True, mode=0o700)
    with socket.socket(socket.AF_UNIX) as stale:  # left by a server that was killed
        stale.bind(str(private / "web.sock"))
    with serve(["--demo"], tmp_path, unix_socket=private / "web.sock") as served:
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        log = (tmp_path / "serve.log").read_text()
        assert f"ssh -N -L {served.port}:{private / 'web.sock'} {socket.gethostname()}" in log
        assert served.start_url.startswith(f"http://localhost:{served.port}/?token=")
        connector = aiohttp.UnixConnector(path=str(private / "web.sock"))
        host = f"localhost:{served.port + 1}"  # any local port: the tunnel's is the user's pick
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(f"http://{host}/") as response:
                assert response.status == 401
            async with session.get(f"http://evil.example:{served.port}/") as response:
                assert response.status == 403
            async with session.get(f"http://{host}/?token={served.token}") as response:
                assert response.status == 200  # and its cookie, in the session's jar
            async with session.ws_connect(f"http://{host}/ws", origin=f"http://{host}"):
                apps = await async_wait_for(served.apps, 30, what="the session")
                peer = apps[0].environ()["CLUSTERTOP_WEB_PEER"]
        assert peer == f"unix uid={os.getuid()} pid={os.getpid()}"
    assert not (private / "web.sock").exists()  # removed when the server ends


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian)")
async def test_the_browser_reaches_it_through_a_tunnel(tmp_path: Path, private: Path) -> None:
    sock = private / "web.sock"  # its folder made by serve
    with serve(["--demo"], tmp_path, unix_socket=sock) as served:
        async with (
            tunnel(served.port, sock),
            chromium(tmp_path / "profile") as devtools,
            open_page(devtools) as page,
        ):
            await page.call("Page.navigate", url=served.start_url)
            await page.wait_for_text("gpu01", "storage01", "Hosts 23 up")
