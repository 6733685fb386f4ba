"""`clustertop report` on a MIG host: instance-hours shown apart from GPU-hours (table, JSON, CSV)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clustertop.cli.report import report_command
from clustertop.cli.report_format import report_table
from clustertop.store.report import HostUse, OwnerUse, Report
from tests.store.crafted_mig import END, write_crafted_mig


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "h.sqlite"
    write_crafted_mig(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert report_command(list(argv), now=END) == 0
    return capsys.readouterr().out


def test_table_shows_instance_hours_in_their_own_table(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(capsys, "--store", str(store), "--since", "3h") == (
        "History 2027-01-15T08:00:00Z .. 2027-01-15T11:00:00Z\n"
        "\n"
        "OWNER  GPU-H HELD  GPU-H BUSY  GPU-H IDLE  PEAK GPUS\n"
        "carol         1.0         1.0         0.0          1\n"
        "\n"
        "OWNER  MIG INST-H HELD  MIG INST-H BUSY  MIG INST-H IDLE\n"
        "carol              2.0              0.0              0.0\n"
        "dave               1.0              0.5              0.5\n"
        "\n"
        "HOST   UP H  DOWN H  GPU UTIL  CPU\n"
        "mig01   2.0     0.0       80%  10%\n"
    )


def test_json_has_instance_hours_per_owner(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads(_run(capsys, "--store", str(store), "--since", "3h", "--json"))
    assert doc["schema"] == 2
    assert doc["owners"] == [
        {
            "owner": "carol",
            "held_gpu_hours": 1.0,
            "busy_gpu_hours": 1.0,
            "idle_gpu_hours": 0.0,
            "peak_gpus": 1,
            "held_instance_hours": 2.0,
            "busy_instance_hours": 0.0,
            "idle_instance_hours": 0.0,
        },
        {
            "owner": "dave",
            "held_gpu_hours": 0.0,
            "busy_gpu_hours": 0.0,
            "idle_gpu_hours": 0.0,
            "peak_gpus": 0,
            "held_instance_hours": 1.0,
            "busy_instance_hours": 0.5,
            "idle_instance_hours": 0.5,
        },
    ]


def test_csv_has_instance_hours_in_the_last_columns(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _run(capsys, "--store", str(store), "--since", "3h", "--csv").splitlines()
    assert lines[0].endswith(",held_instance_hours,busy_instance_hours,idle_instance_hours")
    assert lines[1:] == [
        "owner,carol,1.0,1.0,0.0,1,,,,,,,,,2.0,0.0,0.0",
        "owner,dave,0.0,0.0,0.0,0,,,,,,,,,1.0,0.5,0.5",
        "host,mig01,,,,,2.0,0.0,80,10,,,,,,,",
    ]


def test_an_owner_of_instances_alone_is_not_in_the_gpu_table() -> None:
    only = OwnerUse("erin", 0.0, 0.0, 0.0, 0, 1.5, 0.0, 0.0)
    report = Report(0.0, 3600.0, [only], [HostUse("h", 1.0, 0.0, None, 5.0)], [])
    assert report_table(report) == (
        "History 1970-01-01T00:00:00Z .. 1970-01-01T01:00:00Z\n"
        "\n"
        "OWNER  MIG INST-H HELD  MIG INST-H BUSY  MIG INST-H IDLE\n"
        "erin               1.5              0.0              0.0\n"
        "\n"
        "HOST  UP H  DOWN H  GPU UTIL  CPU\n"
        "h      1.0     0.0         -   5%\n"
    )
