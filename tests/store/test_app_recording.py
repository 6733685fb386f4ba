"""The app records through the store's writer thread, and says so visibly when it cannot."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from clustertop.cli.launch import build_app, history_recorder
from clustertop.config.settings import Config
from clustertop.sources.demo.source import DemoSource
from clustertop.store.recorder import HistoryRecorder
from tests.ui.helpers import NOW, ScriptedSource, host, scripted_app, until, wait_rows

SIZE = (120, 30)


def _rows(path: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT n.name, count(*) FROM raw_host AS r JOIN hosts AS n ON n.id = r.host"
            " GROUP BY n.name ORDER BY n.name"
        ).fetchall()
    finally:
        conn.close()


async def test_readings_the_app_receives_are_recorded(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    # The readings are from NOW: the recorder's clock must agree, or it prunes them as old.
    recorder = HistoryRecorder(path, interval=2.0, clock=lambda: NOW + 10)
    app, source = scripted_app([host("a"), host("b")], recorder=recorder)
    async with app.run_test(size=SIZE):
        await wait_rows(app.grid.table, 2)
        source.emit(host("a", time=1_700_000_002.0))
        assert recorder.flush()
    assert _rows(path) == [("a", 2), ("b", 1)]
    assert recorder.problem is None


async def test_a_store_that_stops_working_is_a_visible_notice(tmp_path: Path) -> None:
    recorder = HistoryRecorder(tmp_path / "h.sqlite", interval=2.0)
    app, _ = scripted_app([host("a")], recorder=recorder)
    async with app.run_test(size=SIZE, notifications=True):
        await wait_rows(app.grid.table, 1)
        recorder.problem = "history recording stopped: the disk is full (/x/h.sqlite)"
        await until(lambda: app.screen.query("Toast"), "history toast")
        shown = str(app.screen.query("Toast").first().render())
        assert "History" in shown and "the disk is full" in shown
        assert app.is_running


async def test_a_foreign_store_is_a_notice_at_start_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite"
    path.write_text("my notes\n")
    config = Config(history_path=path)
    app = build_app(ScriptedSource([host("a")]), config, clock=lambda: 1_700_000_000.0)
    assert app.options.recorder is None
    async with app.run_test(size=SIZE, notifications=True):
        await until(lambda: app.screen.query("Toast"), "history toast")
        shown = str(app.screen.query("Toast").first().render())
        assert "history is not recorded" in shown and "not an SQLite file" in shown
    assert path.read_text() == "my notes\n"


def test_the_demo_is_never_recorded(tmp_path: Path) -> None:
    config = Config(history_path=tmp_path / "h.sqlite")
    assert history_recorder(DemoSource(interval=1.0), config) == (None, None)
    assert not (tmp_path / "h.sqlite").exists()


def test_history_off_records_nothing(tmp_path: Path) -> None:
    config = Config(history_path=tmp_path / "h.sqlite", history_store=False)
    assert history_recorder(ScriptedSource([host("a")]), config) == (None, None)
    assert not (tmp_path / "h.sqlite").exists()
