"""`clustertop export` refuses unsafe or impossible options with a clear message, before serving."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-auth", "--listen", "0.0.0.0:9877", "h1"], "--no-auth only on a loopback address"),
        (["--listen", "nowhere", "h1"], "expected HOST:PORT"),
        (["--listen", "127.0.0.1:9877"], "export needs hosts"),
        (["--once", "h1"], "--once, --json and --demo do not apply"),
        (["--token-file", "/nonexistent/token", "h1"], "cannot read"),
        (["--prometheus", "http://127.0.0.1:9090", "h1"], "--prometheus does not apply"),
    ],
)
def test_refused_options(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert main(["export", *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("clustertop export: ") and message in err


def test_empty_token_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "t").write_text("\n")
    assert main(["export", "--token-file", str(tmp_path / "t"), "h1"]) == 1
    assert "expected one token without spaces" in capsys.readouterr().err


def test_address_in_use(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        argv = ["export", "--no-auth", "--listen", f"127.0.0.1:{port}", "-F", "/dev/null", "h1"]
        assert main(argv) == 1
    assert f"cannot listen on 127.0.0.1:{port}: " in capsys.readouterr().err
