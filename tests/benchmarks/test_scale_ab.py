"""benchmarks.scale_ab's bookkeeping: order of variants, tables, the marked RESULTS.md section."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from benchmarks import scale_ab

ROW: dict[str, object] = {
    "variant": "after",
    "round": 1,
    "load": "0.50 0.40 0.30",
    "server": "fake",
    "hosts": 1000,
    "cold_s": 12.25,
    "client_cpu_ms": 0.851,
    "client_rss_mb": 281.6,
    "remote_ms": None,
    "window": {"p50_ms": 771.0, "p95_ms": 1300.0},
    "server_cpu_s": 6.5,
    "error": None,
    "cold_cpu_s": 9.87,
}


def test_the_order_alternates_every_round() -> None:
    pair = [("before", "a"), ("after", "b")]
    assert scale_ab.ordered(pair, 0) == pair
    assert scale_ab.ordered(pair, 1) == pair[::-1]


def test_a_run_is_one_table_row_and_a_failed_one_says_why() -> None:
    failed = {
        **ROW,
        "cold_s": None,
        "client_cpu_ms": None,
        "window": {},
        "error": "not complete",
        "cold_cpu_s": None,
    }
    lines = scale_ab.fake_table([ROW, failed])
    assert lines[2] == (
        "| after | 1 | 12.25 | 0.85 | 282 | 771 / 1300 | 6.5 | 0.50 0.40 0.30 |  | 9.9 |"
    )
    assert lines[3].endswith("| - | - | 282 | - / - | 6.5 | 0.50 0.40 0.30 | not complete | - |")
    assert scale_ab.medians([ROW, failed], "cold_s") == {"after": 12.25}


def test_remote_ratios_are_to_the_same_rounds_exec_per_tick() -> None:
    peer = {**ROW, "variant": "exec-per-tick", "server": "sshd", "hosts": 10, "remote_ms": 24.0}
    own = {**ROW, "server": "sshd", "hosts": 10, "remote_ms": 2.0}
    lines = scale_ab.sshd_table([own, peer])
    assert "| 10 | after | 1 | 2.00 | 12.0x |" in lines[2]


def test_the_section_replaces_the_marked_one_and_keeps_the_rest(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# results\n\nintro\n\n## Targets\n\nold\n")
    args = argparse.Namespace(variant=[("after", "src")], fake_size=1000, load_before="1 1 1")
    text = scale_ab.section(args, [ROW], [], 60.0)
    scale_ab.write_section(text, results)
    first = results.read_text()
    assert first.index(scale_ab.BEGIN) < first.index("## Targets") and "old" in first
    scale_ab.write_section(text.replace("12.25", "9.99"), results)
    second = results.read_text()
    assert second.count(scale_ab.BEGIN) == 1 and "9.99" in second and "12.25" not in second
    assert second.endswith("## Targets\n\nold\n")


def test_a_variant_must_be_label_equals_source() -> None:
    assert scale_ab._variant("after=src") == ("after", "src")
    with pytest.raises(argparse.ArgumentTypeError):
        scale_ab._variant("src")
