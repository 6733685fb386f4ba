"""A store of the previous format (1, before MIG instances) is upgraded in place or refused."""

from __future__ import annotations

import gzip
import re
import sqlite3
import threading
from pathlib import Path

import pytest

from clustertop.store.report import build_report
from clustertop.store.rollup import roll_up
from clustertop.store.schema import FORMAT_VERSION, StoreError
from clustertop.store.writer import StoreWriter
from tests.store.crafted import EXPECTED_OWNERS, T0
from tests.store.crafted_mig import END, EXPECTED, readings

FIXTURE = Path(__file__).parent / "fixtures" / "history-format1.sqlite.gz"
"""tests/store/crafted.py's history as clustertop with store format 1 wrote it (main at f3fcddb)."""
YEAR = 365 * 86400.0


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    path = tmp_path / "history.sqlite"
    path.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return path


def _version(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _owners(path: Path) -> dict[str, tuple[float, ...]]:
    return {
        o.owner: (o.held_h, o.busy_h, o.idle_h, o.peak_gpus, o.held_instance_h)
        for o in build_report(path, T0, END).owners
    }


def test_the_fixture_is_format_1() -> None:
    assert FORMAT_VERSION == 3
    assert gzip.decompress(FIXTURE.read_bytes())[:16] == b"SQLite format 3\x00"


def test_a_report_reads_a_format_1_store_without_writing_it(old_store: Path) -> None:
    before = old_store.read_bytes()
    owners = _owners(old_store)
    assert owners == {o: pytest.approx((*v, 0.0)) for o, v in EXPECTED_OWNERS.items()}
    assert old_store.read_bytes() == before
    assert _version(old_store) == 1


def test_a_format_1_store_is_upgraded_in_place_keeping_its_history(old_store: Path) -> None:
    writer = StoreWriter(old_store)
    try:
        assert _version(old_store) == FORMAT_VERSION
        for item in readings():  # a MIG host recorded after the upgrade
            writer.write([item])
    finally:
        writer.close()
    want = {o: (*v, 0.0) for o, v in EXPECTED_OWNERS.items()}
    want |= {o: (*v[:5],) for o, v in EXPECTED.items()}
    assert _owners(old_store) == {o: pytest.approx(v, abs=1e-6) for o, v in want.items()}
    conn = sqlite3.connect(old_store, isolation_level=None)
    roll_up(conn, END + 20 * 86400, YEAR)  # old and new readings through minutes into hours
    conn.close()
    assert _owners(old_store) == {o: pytest.approx(v, abs=1e-6) for o, v in want.items()}
    StoreWriter(old_store).close()  # a second opening finds it upgraded already
    assert _version(old_store) == FORMAT_VERSION


def test_an_upgrade_that_fails_leaves_the_file_as_it_was(old_store: Path) -> None:
    conn = sqlite3.connect(old_store, isolation_level=None)
    conn.execute("CREATE TABLE migs(x)")  # in the way of the upgrade's own table
    conn.close()
    before = old_store.read_bytes()
    with pytest.raises(StoreError) as caught:
        StoreWriter(old_store)
    assert str(caught.value) == (
        f"history store {old_store}: format 1 could not be upgraded to format 3 (table migs"
        " already exists); it is left untouched (move it away or set history_path to another"
        " file)"
    )
    assert old_store.read_bytes() == before
    assert _version(old_store) == 1


@pytest.mark.parametrize(
    ("version", "why"),
    [
        (4, "written by a newer clustertop (format 4)"),
        (0, "format 0 is not one this clustertop can upgrade"),
    ],
)
@pytest.mark.parametrize("readonly", [False, True])
def test_other_formats_are_refused_and_kept(
    old_store: Path, version: int, why: str, readonly: bool
) -> None:
    conn = sqlite3.connect(old_store, isolation_level=None)
    conn.execute(f"PRAGMA user_version={version}")
    conn.close()
    before = old_store.read_bytes()
    with pytest.raises(StoreError, match=re.escape(why)):
        if readonly:
            build_report(old_store, T0, END)
        else:
            StoreWriter(old_store)
    assert old_store.read_bytes() == before


def test_two_clustertops_upgrading_at_once_both_go_on(old_store: Path) -> None:
    start = threading.Barrier(4)
    problems: list[BaseException] = []

    def open_it() -> None:
        start.wait(timeout=10)
        try:
            StoreWriter(old_store).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            problems.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert problems == []
    assert _version(old_store) == FORMAT_VERSION
    assert _owners(old_store) == {o: pytest.approx((*v, 0.0)) for o, v in EXPECTED_OWNERS.items()}
