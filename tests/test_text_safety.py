"""Host text shown safely everywhere: controls, format and bidi characters, surrogates, stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from clustertop.util.textsafe import literal, printable
from tests.reliability import record
from tests.waiting import wait_for

HOSTILE_ARGV0 = b"\x9b31m\xff " + "\u202eevil\u200b\u2028x".encode()
"""Not UTF-8 (an 8-bit CSI, a stray 0xFF), then a bidi override, a zero-width space, U+2028
(as argv[0], ahead of the code: the table shows the start of a command)."""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", "\\x1b[2J"),  # Cc: ESC
        ("\x9b31m", "\\x9b31m"),  # Cc: C1 CSI
        ("a\u202eb", "a\\u202eb"),  # Cf: right-to-left override
        ("\u2066x\u2069", "\\u2066x\\u2069"),  # Cf: bidi isolates
        ("zero\u200bwidth\ufeff\u00ad", "zero\\u200bwidth\\ufeff\\xad"),  # Cf
        ("tag\U000e0041", "tag\\U000e0041"),  # Cf: tag characters
        ("x\udc9by", "x\\udc9by"),  # Cs: an undecodable byte kept by surrogateescape
        ("a\u2028b\u2029c", "a\\u2028b\\u2029c"),  # Zl, Zp
        ("tab\there\r\nnext", "tab here  next"),  # line breaks: spaces
        ("café 日本 \u00a0 ✓ 🙂", "café 日本 \u00a0 ✓ 🙂"),  # printable text stays as it is
    ],
)
def test_printable_escapes_every_control_format_and_separator(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert literal(raw).plain == shown


@pytest.fixture
def hostile_process() -> Iterator[int]:
    # Busy and large, so that it heads the table's rows (by CPU) and the JSON's top processes
    # (by CPU and by memory) even on a machine where other work runs.
    code = "import sys; x = b'x' * (700 << 20); sys.stdout.close()\nwhile True: pass"
    argv: list[str | bytes] = [HOSTILE_ARGV0, "-c", code]
    proc = subprocess.Popen(argv, executable=sys.executable, stdout=subprocess.PIPE)
    try:
        wait_for(lambda: psutil.Process(proc.pid).memory_info().rss > 600 << 20, 30, what="rss")
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def _once(*args: str, encoding: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLUSTERTOP_")}
    env |= {"PYTHONIOENCODING": encoding, "DOCKER_HOST": "unix:///nonexistent.sock"}
    return subprocess.run(
        [sys.executable, "-m", "clustertop", "--once", *args],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )


def _line_of(pid: int, output: str) -> str:
    return next(line for line in output.splitlines() if line.lstrip().startswith(f"{pid} "))


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii:strict"])
@pytest.mark.reliability
def test_once_table_shows_a_hostile_argv_escaped(
    hostile_process: int, encoding: str, tmp_path: Path
) -> None:
    done = _once(encoding=encoding)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    text = done.stdout.decode("ascii" if encoding.startswith("ascii") else "utf-8", "strict")
    assert "\x9b" not in text and "\x1b" not in text and "\u202e" not in text
    line = _line_of(hostile_process, text)
    if encoding.startswith("utf-8"):
        assert "\ufffd31m\ufffd \\u202eevil\\u200b\\u2028x -c import" in line
    else:  # what ASCII cannot hold, escaped by the stream rather than crashing it
        assert "\\ufffd31m\\ufffd \\u202eevil\\u200b\\u2028x -c import" in line
    kind = f"--once table on a {encoding} stdout"
    record("hostile", "escapes", f"{kind}: 8-bit CSI 0x9B never written raw")
    record("hostile", "bidi", f"{kind}: U+202E, U+200B, U+2028 shown as \\u escapes")
    record("hostile", "invalid-utf8", f"{kind}: undecodable bytes shown as U+FFFD, no crash")


def test_once_json_is_valid_and_escaped(hostile_process: int) -> None:
    done = _once("--json", encoding="utf-8:strict")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert done.stdout.isascii(), "every non-ASCII character is a JSON escape"
    doc = json.loads(done.stdout)
    [host] = doc["hosts"]
    [row] = [p for p in host["processes"] if p["pid"] == hostile_process]
    assert row["command"].startswith("\ufffd31m\ufffd \u202eevil\u200b\u2028x -c import")
