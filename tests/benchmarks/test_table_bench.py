"""The table benchmark at toy size: the tables, each repainted every tick, TABLES.md written."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("textual_fastdatatable", reason="benchmarks/requirements.txt not installed")

from benchmarks.table_bench import main, run

LABELS = (
    "(a) clustertop KeyedTable / FastDataTable",
    "(b) textual DataTable, update_cell",
    "(c) textual-fastdatatable 0.19.5, update_cell",
    "(c') textual-fastdatatable 0.19.5, plain text (no colours)",
)


def test_every_table_repaints_every_tick_and_shows_the_same_row() -> None:
    results, facts = run(hosts=20, ticks=3, warmup=1, rounds=2)

    assert [result.label for result in results] == list(LABELS)
    for result in results:
        assert len(result.tick_s) == len(result.cursor_s) == 6
        assert len(result.load_s) == 2
        assert min(result.lines) > 0, f"{result.label}: a tick painted nothing"
        assert min(result.cursor_lines) > 0, f"{result.label}: a key press painted nothing"
    assert facts["changed"] > 0
    first_rows = {result.first_row for result in results}  # (c') too: only colours differ
    assert len(first_rows) == 1, first_rows
    assert "gpu01-r00" in first_rows.pop()


def test_write_puts_every_table_row_and_a_verdict_in_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "TABLES.md"

    assert (
        main(
            [
                "--hosts",
                "20",
                "--ticks",
                "3",
                "--warmup",
                "1",
                "--rounds",
                "1",
                "--write",
                "--out",
                str(out),
            ]
        )
        == 0
    )

    report = out.read_text()
    rows = [line for line in report.splitlines() if line.startswith("| (")]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows] == list(LABELS)
    assert rows[0].split(" | ")[3] == "1.00x"
    assert "**Verdict: " in report
    assert "20 demo hosts" in report
    assert "Verdict" in capsys.readouterr().out
