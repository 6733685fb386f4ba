"""`clustertop report`: table, JSON, CSV and SVG checked against the crafted history's hours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clustertop.cli.report import parse_time, report_command
from tests.store.crafted import END, STALE_LAST, STALE_SINCE, T0, write_crafted

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "h.sqlite"
    write_crafted(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str, now: float = END) -> tuple[int, str, str]:
    status = report_command(list(argv), now=now)
    out, err = capsys.readouterr()
    return status, out, err


def test_json_has_the_known_hours(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "--store", str(store), "--since", "4h", "--json")
    assert status == 0
    doc = json.loads(out)
    assert doc["since"] == "2027-01-15T08:00:00Z" and doc["until"] == "2027-01-15T12:00:00Z"
    assert doc["owners"] == [
        {
            "owner": "alice",
            "held_gpu_hours": 2.0,
            "busy_gpu_hours": 1.0,
            "idle_gpu_hours": 1.0,
            "peak_gpus": 1,
            "held_instance_hours": 0.0,
            "busy_instance_hours": 0.0,
            "idle_instance_hours": 0.0,
        },
        {
            "owner": "bob",
            "held_gpu_hours": 0.5,
            "busy_gpu_hours": 0.5,
            "idle_gpu_hours": 0.0,
            "peak_gpus": 1,
            "held_instance_hours": 0.0,
            "busy_instance_hours": 0.0,
            "idle_instance_hours": 0.0,
        },
    ]
    assert doc["hosts"] == [
        {
            "host": "gpu01",
            "up_hours": 3.0,
            "down_hours": 0.167,
            "gpu_util_percent": 20.0,
            "cpu_percent": 50.0,
        },
    ]
    assert doc["stale"] == [
        {
            "host": "gpu01",
            "container": "alice-job",
            "started": "2027-01-15T09:00:10Z",
            "last": "2027-01-15T10:00:00Z",
            "hours": round((STALE_LAST - STALE_SINCE) / 3600, 3),
        },
    ]


def test_table_reads_as_expected(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(
        capsys,
        "--store",
        str(store),
        "--from",
        "2027-01-15T08:00:00Z",
        "--to",
        "2027-01-15T12:00Z",
    )
    assert status == 0
    assert out == (
        "History 2027-01-15T08:00:00Z .. 2027-01-15T12:00:00Z\n"
        "\n"
        "OWNER  GPU-H HELD  GPU-H BUSY  GPU-H IDLE  PEAK GPUS\n"
        "alice         2.0         1.0         1.0          1\n"
        "bob           0.5         0.5         0.0          1\n"
        "\n"
        "HOST   UP H  DOWN H  GPU UTIL  CPU\n"
        "gpu01   3.0     0.2       20%  50%\n"
        "\n"
        "STALE CONTAINER  HOST   IDLE SINCE            HOURS\n"
        "alice-job        gpu01  2027-01-15T09:00:10Z    1.0\n"
    )


def test_csv_has_one_row_per_owner_host_and_stale_container(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _run(capsys, "--store", str(store), "--since", "4h", "--csv")
    assert status == 0
    assert out.splitlines() == [
        "kind,name,held_gpu_hours,busy_gpu_hours,idle_gpu_hours,peak_gpus,up_hours,down_hours,"
        "gpu_util_percent,cpu_percent,host,started,last,stale_hours,held_instance_hours,"
        "busy_instance_hours,idle_instance_hours",
        "owner,alice,2.0,1.0,1.0,1,,,,,,,,,0.0,0.0,0.0",
        "owner,bob,0.5,0.5,0.0,1,,,,,,,,,0.0,0.0,0.0",
        "host,gpu01,,,,,3.0,0.167,20,50,,,,,,,",
        "stale,alice-job,,,,,,,,,gpu01,2027-01-15T09:00:10Z,2027-01-15T10:00:00Z,0.997,,,",
    ]


def test_svg_draws_one_band_per_owner(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = tmp_path / "use.svg"
    status, _, _ = _run(capsys, "--store", str(store), "--since", "4h", "--svg", str(svg))
    assert status == 0
    root = ET.fromstring(svg.read_text())
    ns = {"s": "http://www.w3.org/2000/svg"}
    bands = root.findall("s:polygon", ns)
    assert [band.find("s:title", ns).text for band in bands] == ["alice", "bob"]  # type: ignore[union-attr]
    legend = [t.text for t in root.findall("s:text", ns)]
    assert "alice" in legend and "bob" in legend


def test_hosts_narrow_the_report(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "--store", str(store), "--since", "4h", "--json", "gpu02")
    assert status == 0
    assert json.loads(out)["owners"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--since", "7d", "--from", "2027-01-01"], "give --since or --from, not both"),
        (["--from", "yesterday"], "expected a time like 2026-12-01"),
        (["--since", "soon"], "soon"),
        (["--from", "2027-01-15T12:00Z", "--to", "2027-01-15T08:00Z"], "the span is empty"),
    ],
)
def test_bad_options_are_clear(
    store: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = _run(capsys, "--store", str(store), *argv)
    assert status == 1 and out == ""
    assert err.startswith("clustertop report: ") and message in err


def test_a_missing_store_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(capsys, "--store", str(tmp_path / "none.sqlite"))
    assert status == 1
    assert "no such file (nothing recorded yet)" in err
    assert not (tmp_path / "none.sqlite").exists()


def test_parse_time_reads_utc_offsets_and_unix_seconds() -> None:
    assert parse_time("2027-01-15T08:00:00Z") == T0
    assert parse_time("2027-01-15T09:00:00+01:00") == T0
    assert parse_time(str(T0)) == T0


def test_the_command_runs_as_installed(store: Path, tmp_path: Path) -> None:
    """Through `python -m clustertop report`, with the store found from XDG_STATE_HOME."""
    state = tmp_path / "state" / "clustertop"
    state.mkdir(parents=True)
    os.link(store, state / "history.sqlite")
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    env.pop("CLUSTERTOP_CONFIG", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "clustertop",
            "report",
            "--from",
            str(T0),
            "--to",
            str(END),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [o["owner"] for o in json.loads(done.stdout)["owners"]] == ["alice", "bob"]


def test_a_span_with_hosts_but_no_gpu_holders_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "h.sqlite"
    write_crafted(path, 1081, 1140)  # only the 10 minutes the host was unreachable
    status, out, _ = _run(capsys, "--store", str(path), "--since", "4h")
    assert status == 0
    assert "No GPU was held by anyone in this span.\n" in out
    assert "gpu01   0.0     0.2" in out
