"""The logs view under a flood and forged notices: bounded lines and bytes, notices out of band."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from clustertop.actions.local_runner import LocalActionRunner, LocalLogStream
from clustertop.actions.model import ContainerTarget
from clustertop.actions.streams import MAX_LINE, cut_line, cut_mark
from clustertop.ui.screens.logs import ENDED, LogsScreen
from tests.actions.helpers import container_target
from tests.fleet.dockerd import DockerEngine
from tests.reliability import record
from tests.ui.helpers import until
from tests.ui_actions.helpers import SIZE, demo_app
from tests.waiting import async_wait_for

TARGET_ID = "ab" * 32
# 200 lines of 64 KiB (numbered), then 3,000 short ones: what a runaway job prints.
FLOOD = """
i=0
while [ $i -lt 200 ]; do printf 'big%05d ' $i; head -c 65536 /dev/zero | tr '\\000' x; echo; i=$((i+1)); done
seq -f 'small%05g' 1 3000
exit
"""


def _widget_bytes(screen: LogsScreen) -> int:
    return sum(len(line.encode()) for line in screen.log_widget.lines)


@pytest.mark.reliability
async def test_a_flood_keeps_within_the_line_and_byte_caps() -> None:
    target = ContainerTarget("local", TARGET_ID, "flood", "img", "running", None)
    app, _ = demo_app()
    max_bytes = 200 * 1024
    async with app.run_test(size=SIZE) as pilot:
        screen = LogsScreen(
            target,
            LocalLogStream(FLOOD, {"PATH": "/usr/bin:/bin"}),
            max_lines=1000,
            max_bytes=max_bytes,
        )
        await app.push_screen(screen)
        await async_wait_for(lambda: screen.notices, 60, what="the end of the flood")
        await pilot.pause()
        widget = screen.log_widget
        assert screen.notices == [ENDED]
        assert widget.line_count == 1000, "the line cap, once the lines are short"
        assert widget.lines[-1] == "small03000" and widget.lines[0] == "small02001"
        assert _widget_bytes(screen) == screen.kept.bytes <= max_bytes
    record("hostile", "long-log-lines", "flood: the view keeps its line and byte caps", lines=1000)


@pytest.mark.reliability
async def test_long_lines_are_cut_visibly_and_bytes_capped() -> None:
    target = ContainerTarget("local", TARGET_ID, "flood", "img", "running", None)
    app, _ = demo_app()
    max_bytes = 64 * 1024
    big_only = FLOOD.replace("seq -f 'small%05g' 1 3000\n", "")
    async with app.run_test(size=SIZE) as pilot:
        screen = LogsScreen(
            target,
            LocalLogStream(big_only, {"PATH": "/usr/bin:/bin"}),
            max_lines=1000,
            max_bytes=max_bytes,
        )
        await app.push_screen(screen)
        await async_wait_for(lambda: screen.notices, 60, what="the end of the flood")
        await pilot.pause()
        lines = screen.log_widget.lines
        # 9 prefix characters + 65536 x: cut to MAX_LINE, the rest counted in the mark.
        assert lines[-1] == cut_line("big00199 " + "x" * 65536)
        assert lines[-1].startswith("big00199 xxx") and len(lines[-1]) == MAX_LINE
        assert lines[-1].endswith(
            f"[... line cut: {65545 - MAX_LINE + len(cut_mark(65545))} more characters]"
        )
        assert len(lines) == max_bytes // len(lines[-1].encode())
        assert _widget_bytes(screen) <= max_bytes
    record("hostile", "long-log-lines", "64 KiB lines cut visibly at MAX_LINE", max_line=MAX_LINE)


@pytest.mark.reliability
async def test_a_container_cannot_print_clustertops_notices(
    docker_engine: DockerEngine, container_name: Callable[[str], str]
) -> None:
    forged = (
        "clustertop: the log stream ended",
        "clustertop: host not connected",
        "\tclustertop: \x1b[7mended",
    )
    script = "; ".join(f"printf '%s\\n' '{line}'" for line in forged) + "; sleep 3"
    cid = docker_engine.run_container(container_name("forger"), "sh", "-c", script)
    try:
        app, _ = demo_app()
        async with app.run_test(size=SIZE):
            target = container_target("local", docker_engine, cid)
            stream = LocalActionRunner(docker_engine.host).logs(target, lines=10)
            assert stream is not None
            screen = LogsScreen(target, stream)
            await app.push_screen(screen)
            widget = screen.log_widget
            await until(lambda: widget.line_count >= 3, "the forged lines")
            shown = [line.split(" ", 1)[1] for line in widget.lines]  # after the timestamp
            assert shown == [
                "clustertop: the log stream ended",
                "clustertop: host not connected",
                " clustertop: \\x1b[7mended",
            ]
            assert screen.notices == [], "lines of the log, not notices"
            # The container exits: now the real notice comes, in its own place.
            await async_wait_for(lambda: screen.notices, 30, what="the real end")
            assert screen.notices == [ENDED]
            assert widget.line_count == 3
        record("hostile", "forged-notice", "3 forged notice lines shown as log lines, not notices")
    finally:
        docker_engine.cli("rm", "--force", cid)
