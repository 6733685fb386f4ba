"""The --once table and JSON: hostile host text is shown safely in the table, carried unchanged in JSON."""

from __future__ import annotations

import json

from clustertop.cli import once_json as jsonout
from clustertop.cli import once_table as report
from clustertop.model import Container, Disk, HostSnapshot, HostState, Process

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
