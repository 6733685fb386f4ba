"""Local mode against a real process with 1.9 MB of arguments: listed, with its arguments cut."""

from __future__ import annotations

import psutil
import pytest

from clustertop.parsers.procfs import ARGS_CUT, ARGS_LIMIT
from clustertop.sources.local.processes import ProcessTable, describe_pid
from tests.reliability import record
from tests.ssh.helpers import HUGE_ARGV, huge_argv_process


@pytest.mark.reliability
def test_megabytes_of_arguments_are_cut_in_the_list_and_in_a_pid_description() -> None:
    with huge_argv_process() as huge:
        table = ProcessTable(top_n=100_000)  # everything, so an idle process is listed too
        rows = {p.pid: p for p in table.read(psutil.virtual_memory().total).processes}
        described = describe_pid(huge.pid)
    command = rows[huge.pid].command
    assert command.startswith("sh -c sleep 300; true x xxxx")
    assert command.endswith(ARGS_CUT) and len(command) == ARGS_LIMIT
    assert described is not None and described.command == command
    record(
        "hostile",
        "huge-argv",
        "local mode: listed, its arguments cut, ending in '…'",
        argv_bytes=sum(len(a) + 1 for a in HUGE_ARGV),
        shown_chars=len(command),
    )
