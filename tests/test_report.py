"""The --once table and JSON: hostile host text is shown safely in the table, carried unchanged in JSON."""

from __future__ import annotations

import json
from typing import Any

from clustertop.analysis.issues import section_issues
from clustertop.cli import once_json as jsonout
from clustertop.cli import once_table as report
from clustertop.model import (
    Container,
    Cpu,
    Disk,
    Gpu,
    HostSnapshot,
    HostState,
    Memory,
    Process,
    Section,
)
from clustertop.ui import columns

GIB = 1024**3

HOSTILE = "[red]x[/] \x1b[2J\x07evil"


def _snapshot() -> HostSnapshot:
    return HostSnapshot(
        name="gpu01",
        state=HostState.UP,
        time=1_700_000_000.0,
        processes=(Process(1, "root", 1.0, 0.1, 4096, 1.0, HOSTILE),),
        containers=(
            Container(
                id="a" * 64,
                name="alice-x",
                image=HOSTILE,
                state="running",
                status="Up 1 second",
                labels={"note": HOSTILE},
            ),
        ),
        disks=(Disk("/mnt/my disk\n[b]", "/dev/sdb", "ext4", 100, 50, 50),),
        docker_error=None,
    )


def test_table_escapes_control_characters_and_keeps_markup_literal() -> None:
    text = report.render([_snapshot()])
    assert "\x1b" not in text and "\x07" not in text
    assert "[red]x[/] \\x1b[2J\\x07evil" in text
    assert "/mnt/my disk [b]" in text  # a newline in a mount point cannot break the table


def test_json_carries_the_text_unchanged() -> None:
    doc = json.loads(json.dumps(jsonout.document([_snapshot()])))
    host = doc["hosts"][0]
    assert host["processes"][0]["command"] == HOSTILE
    assert host["containers"][0]["image"] == HOSTILE
    assert host["containers"][0]["labels"]["note"] == HOSTILE
    assert host["disks"][0]["mount"] == "/mnt/my disk\n[b]"


def test_down_host_row_says_why() -> None:
    down = HostSnapshot(
        name="gpu02", state=HostState.UNREACHABLE, time=0.0, error="connection refused"
    )
    first_row = report.render([down]).splitlines()[1]
    assert "unreachable: connection refused" in first_row


def _gpu(index: int, util: float) -> Gpu:
    return Gpu(index, f"GPU-{index}", "NVIDIA A100", util, 10 * GIB, 80 * GIB, 40.0, 100.0, 400.0)


def _up(name: str, **sections: Any) -> HostSnapshot:
    return HostSnapshot(
        name=name,
        state=HostState.UP,
        time=1_700_000_000.0,
        cpu=Cpu(12.0, 10.0, 2.0),
        load=(1.0, 0.5, 0.25),
        memory=Memory(total=64 * GIB, used=16 * GIB),
        disks=(Disk("/", "/dev/sda1", "ext4", 100, 40, 60),),
        **sections,
    )


def _fleet() -> list[HostSnapshot]:
    running = Container("c" * 64, "train", "pytorch", "running", "Up 1 hour")
    return [
        _up("ok", gpus=(_gpu(0, 50.0), _gpu(1, 30.0)), containers=(running,)),
        _up("nodriver", gpu_error="NVIDIA driver not loaded"),
        _up(
            "hung",
            gpus=(_gpu(0, 90.0),),
            gpu_error="nvidia-smi timed out (a GPU may have fallen off the bus)",
            stale={Section.GPU: 14.0},
        ),
        _up("silent", gpu_error="timed out: no answer for 12 s"),
        _up("nodocker", docker_error="permission denied on /var/run/docker.sock"),
        _up("starting", waiting=frozenset({Section.GPU, Section.DOCKER})),
        _up("cpuonly"),
        HostSnapshot(
            name="down", state=HostState.UNREACHABLE, time=0.0, error="connection refused"
        ),
        HostSnapshot(name="new", state=HostState.CONNECTING, time=0.0),
    ]


_OVERVIEW = """\
HOST      STATE                                                                CPU  LOAD            MEMORY         GPUS   GPU UTIL  GPU MEM         DISK   CTRS
ok        up                                                                   12%  1.00 0.50 0.25  16.0/64.0 GiB  2      40%       20.0/160.0 GiB  40% /  1/1
nodriver  ! gpu: NVIDIA driver not loaded                                      12%  1.00 0.50 0.25  16.0/64.0 GiB  error  N/A       -               40% /  0/0
hung      ! gpu: nvidia-smi timed out (a GPU may have fallen off the bus) 14s  12%  1.00 0.50 0.25  16.0/64.0 GiB  1      90%       10.0/80.0 GiB   40% /  0/0
silent    ! gpu: timed out: no answer for 12 s                                 12%  1.00 0.50 0.25  16.0/64.0 GiB  error  N/A       -               40% /  0/0
nodocker  ! docker: permission denied on /var/run/docker.sock                  12%  1.00 0.50 0.25  16.0/64.0 GiB  0      N/A       -               40% /  error
starting  up                                                                   12%  1.00 0.50 0.25  16.0/64.0 GiB  N/A    N/A       -               40% /  N/A
cpuonly   up                                                                   12%  1.00 0.50 0.25  16.0/64.0 GiB  0      N/A       -               40% /  0/0
down      unreachable: connection refused                                      -    -               -              -      -         -               -      -
new       connecting                                                           -    -               -              -      -         -               -      -
"""
"""What the user reads: why a section failed, and '-' where a host is not up."""


def test_table_shows_a_failed_section_as_the_grid_does_and_dashes_for_hosts_not_up() -> None:
    overview = report.render(_fleet()).split("\n\n")[0]
    assert overview + "\n" == _OVERVIEW


def test_the_grid_and_the_table_word_a_section_failure_the_same() -> None:
    hung = _fleet()[2]
    grid_state = columns.host_row(hung, columns.GridContext(now=hung.time, interval=2.0)).cells[1]
    issue = "gpu: nvidia-smi timed out (a GPU may have fallen off the bus) 14s"
    assert section_issues(hung) == [issue]
    assert grid_state.plain == f"! {issue}"
    assert report.summary_rows([hung])[0][1] == f"! {issue}"
