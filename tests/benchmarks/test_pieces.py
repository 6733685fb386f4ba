"""The benchmark's measuring pieces on their own: stand-in data, frame templates, sweep bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.peer_command import DONE_LINE, done_hosts
from benchmarks.ticks import SweepLog, TickBook, Window, percentile

from benchmarks import frames, standins
from clustertop.parsers.docker import parse_inspect_lines
from clustertop.parsers.nvidia_smi import parse_apps_query, parse_gpu_query
from clustertop.sources.ssh.probe import parse_frame
from tests.realdata import fixture


@pytest.fixture(scope="module")
def stand(tmp_path_factory: pytest.TempPathFactory) -> standins.StandIns:
    if not fixture(standins.GPU_CAPTURE).is_file():
        pytest.skip(f"real capture {standins.GPU_CAPTURE} not found")
    return standins.install(tmp_path_factory.mktemp("standins"))


def test_standin_gpu_rows_parse_as_eight_real_h200s(stand: standins.StandIns) -> None:
    gpus, other = parse_gpu_query((stand.data_dir / "gpu-peer.csv").read_text())
    assert other == []
    assert [g.name for g in gpus] == ["NVIDIA H200"] * 8
    assert len({g.uuid for g in gpus}) == 8
    assert gpus[0].util_percent == 100.0 and gpus[0].power_w == 627.4


def test_standin_gpu_processes_come_from_the_real_capture(stand: standins.StandIns) -> None:
    apps = parse_apps_query((stand.data_dir / "apps.csv").read_text())
    assert [(a.pid, a.process_name) for a in apps] == [
        (21180, "/root/tools/memhog"),
        (21181, "/root/tools/memhog"),
        (21198, "./gpu_burn"),
    ]


def test_standin_docker_lines_have_the_probes_inspect_format(stand: standins.StandIns) -> None:
    ids = (stand.data_dir / "docker-ids.txt").read_text().split()
    lines = (stand.data_dir / "docker-inspect.txt").read_text().splitlines()
    assert len(ids) == len(lines) == standins.CONTAINERS_PER_HOST
    cid, pid, log, rendered = lines[0].split(" ", 3)
    assert cid == ids[0] and int(pid) > 0 and Path(log).is_file()
    assert parse_inspect_lines(rendered)[0]["Name"].startswith("/")
    assert json.loads(rendered)["Id"] == cid


FRAME = """@ctrec5f0c3a9e t 2 100.50
@ctrec5f0c3a9e b sys
0.10 0.20 0.30 1/100 42
@ctrec5f0c3a9e e sys 0 100.50
@ctrec5f0c3a9e p disks 98.40
@ctrec5f0c3a9e d 2
"""


def test_frame_template_fills_marker_sequence_and_uptimes() -> None:
    template = frames.template_of(FRAME)
    text = template.render("@ctnew", 9, 123.0)
    frame = parse_frame(text, "@ctnew")
    assert (frame.seq, frame.uptime) == (9, 123.0)
    assert frame.sections["sys"].body == "0.10 0.20 0.30 1/100 42"
    assert frame.sections["sys"].started == 123.0
    # disks was pending since 2.1 s before the recorded tick: the replay keeps that age.
    assert frame.pending == {"disks": pytest.approx(120.9)}
    assert text.endswith("@ctnew d 9\n")


def test_done_hosts_finds_frame_ends_in_fan_out_output() -> None:
    chunk = f"h1: x\nh2: {DONE_LINE}\nh1: {DONE_LINE}\nh3: @ctpeer d 12\n".encode()
    assert done_hosts(chunk) == ["h2", "h1"]


def test_sweep_ignores_frames_asked_for_before_the_tick() -> None:
    log = SweepLog(hosts=2, interval=2.0)
    # h1 answered a frame it was asked for at 9.0 (before the tick at 10.0), then one at 10.0.
    arrivals = {"h1": ([9.0, 10.0], [10.2, 10.5]), "h2": ([10.0], [10.3])}
    log.add(10.0, arrivals)
    log.add(12.0, arrivals)
    summary = log.summary()
    assert summary["sweeps"] == 1 and summary["incomplete"] == 1
    assert summary["p50_ms"] == pytest.approx(500.0)


def test_window_opens_after_warmup_and_counts_frames(capsys: pytest.CaptureFixture[str]) -> None:
    book = TickBook(["a", "b"], Window(warmup=1, count=2), interval=1.0, cpu=lambda: 0.0)
    book.arrived("a", 0.5)
    book.arrived("b", 0.6)  # cold start: before any tick
    for tick in range(4):
        book.tick(10.0 + tick)
        book.arrived("a", 10.1 + tick)
        book.arrived("b", 10.4 + tick)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["ev"] for e in events] == ["cold", "window_start", "window_end"]
    end = events[-1]
    assert (end["ticks"], end["frames"], end["sweeps"], end["late"]) == (2, 4, 2, 0)
    assert end["p95_ms"] == pytest.approx(400.0)
    assert book.finished


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(range(1, 101), 95) == 95
