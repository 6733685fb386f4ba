"""A normal run prints no third-party warnings: asyncssh's DSA deprecation is hidden, only it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Shows every warning once, as a developer's shell might; the filter must win over it.
_SHOW_ALL = ["-W", "default"]


def _python(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env = {**base, "PYTHONWARNINGS": "default", "XDG_CONFIG_HOME": str(home)}
    return subprocess.run(
        [sys.executable, *_SHOW_ALL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.fixture
def refused_host() -> Iterator[str]:
    """`127.0.0.1:<port>` where nothing listens: the port is held, so no one else takes it."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{held.getsockname()[1]}"


def test_demo_once_prints_the_report_and_nothing_on_stderr(tmp_path: Path) -> None:
    done = _python("-m", "clustertop", "--demo", "--once", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("HOST ")
    assert done.stderr == ""


def test_once_over_ssh_prints_no_warning(tmp_path: Path, refused_host: str) -> None:
    done = _python("-m", "clustertop", "--once", "--timeout", "5", refused_host, home=tmp_path)
    assert "Warning" not in done.stderr
    assert f"{refused_host}  unreachable: connection refused" in done.stdout


def test_the_console_script_entry_prints_no_warning(tmp_path: Path, refused_host: str) -> None:
    entry = "import sys; from clustertop.cli.main import main; sys.exit(main(sys.argv[1:]))"
    done = _python("-c", entry, "--once", "--timeout", "5", refused_host, home=tmp_path)
    assert "Warning" not in done.stderr
    assert "unreachable" in done.stdout


def test_only_asyncssh_s_cryptography_deprecation_is_hidden(tmp_path: Path) -> None:
    code = (
        "import warnings\n"
        "from clustertop.util.quiet import quiet_third_party_warnings\n"
        "quiet_third_party_warnings()\n"
        "import asyncssh\n"
        "from cryptography.utils import CryptographyDeprecationWarning\n"
        "warnings.warn('from elsewhere', CryptographyDeprecationWarning)\n"
        "warnings.warn('another kind', UserWarning)\n"
    )
    done = _python("-c", code, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "CryptographyDeprecationWarning: from elsewhere" in done.stderr
    assert "UserWarning: another kind" in done.stderr
    assert "DSA" not in done.stderr
