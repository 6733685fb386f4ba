"""Reliability of the store with real processes: SIGKILL, two writers, foreign files, full disk."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from clustertop.store.recorder import HistoryRecorder
from clustertop.store.schema import StoreError, connect
from clustertop.store.writer import StoreWriter
from tests.store.crafted import T0, reading, write_crafted

ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.record_proc", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_sigkill_loses_at_most_the_last_interval(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    proc = _spawn("ticks", str(path), "gpu01", "1000")
    assert proc.stdout is not None
    last = 0
    for line in proc.stdout:  # bounded: the process writes 1000 ticks at most
        last = int(line.split()[1])
        if last >= 20:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert last >= 20
    assert _integrity(path) == "ok"
    # Every tick it reported written is there (it may have written one more).
    assert _count(path, "SELECT count(*) FROM raw_host") >= last
    StoreWriter(path).close()  # and it opens again for the next run


def test_two_processes_on_one_store_never_corrupt_it(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    first = _spawn("ticks", str(path), "gpu01", "300")
    second = _spawn("ticks", str(path), "gpu02", "300")
    for proc in (first, second):
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        assert out.splitlines()[-1] == "tick 300"
    assert _integrity(path) == "ok"
    assert _count(path, "SELECT count(*) FROM raw_host") == 600
    assert _count(path, "SELECT count(DISTINCT host) FROM raw_host") == 2
    assert _count(path, "SELECT count(*) FROM hosts") == 2
    assert _count(path, "SELECT count(*) FROM holders") == 3  # alice, bob, nobody


@pytest.mark.parametrize(
    "content",
    [b"this is my thesis, not a database\n" * 100, b"\x00" * 4096],
    ids=["text", "zeros"],
)
def test_a_file_that_is_not_sqlite_is_refused_and_kept(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "h.sqlite"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=r"not an SQLite file.*left untouched"):
        connect(path)
    assert path.read_bytes() == content


def test_another_programs_sqlite_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes(text)")
    conn.execute("INSERT INTO notes VALUES ('keep me')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        connect(path)
    assert path.read_bytes() == before


def test_a_foreign_application_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 1234")
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"application_id 0x4d2"):
        connect(path)
    assert path.read_bytes() == before


def test_a_damaged_store_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    StoreWriter(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page's content
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"damaged|another program") as caught:
        connect(path)
    assert "left untouched" in str(caught.value)
    assert path.read_bytes() == bytes(data)


def test_a_full_disk_stops_recording_not_the_process(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    proc = _spawn("full", str(path), str(256 * 1024))
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "still running"
    assert lines[-2].startswith("problem history recording stopped:")
    assert str(path) in lines[-2]
    assert _integrity(path) == "ok"  # what was written before stays readable


def test_a_full_tmpfs_says_the_disk_is_full(tmp_path: Path) -> None:
    small = tmp_path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(small)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        proc = _spawn("full", str(small / "h.sqlite"), str(1 << 40))
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
        lines = out.splitlines()
        assert lines[-1] == "still running"
        assert lines[-2].startswith("problem history recording stopped: the disk is full")
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_damage_inside_the_file_stops_recording_with_a_notice(tmp_path: Path) -> None:
    """Pages damaged past the schema: the store opens, the first write fails, recording stops."""
    path = tmp_path / "h.sqlite"
    write_crafted(path, 1, 300)
    conn = sqlite3.connect(path)
    # The tables' own pages (not the schema's, which may span several pages).
    roots = [r for (r,) in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 3")]
    conn.close()
    data = bytearray(path.read_bytes())
    for offset in ((page - 1) * 4096 for page in roots):
        data[offset : offset + 200] = b"\xee" * 200
    path.write_bytes(bytes(data))
    recorder = HistoryRecorder(path, interval=10.0, clock=lambda: T0)
    recorder.offer(reading(301))
    assert recorder.flush()
    recorder.close()
    assert recorder.problem is not None
    assert recorder.problem.startswith(
        "history recording stopped: database disk image is malformed"
    )
