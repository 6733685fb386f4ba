"""The local process list against real processes of this machine."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import psutil
import pytest

from clustertop.sources.local.processes import ProcessTable, command_of, describe_pid


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "300"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_process_is_listed_with_its_user_command_start_and_memory(
    sleeper: subprocess.Popen[bytes],
) -> None:
    table = ProcessTable(top_n=100_000)  # everything, so an idle process is listed too
    rows = {p.pid: p for p in table.read(psutil.virtual_memory().total).processes}

    row = rows[sleeper.pid]
    ps = psutil.Process(sleeper.pid)
    assert row.command == "sleep 300"
    assert row.user == ps.username()
    assert row.start_time == ps.create_time()
    assert row.memory_rss is not None and row.memory_rss > 0
    assert row.memory_percent is not None and 0 < row.memory_percent < 100
    assert row.cpu_percent is None  # one reading: no interval yet
    assert row.container is None


def test_cpu_use_is_measured_per_core_between_two_readings(
    sleeper: subprocess.Popen[bytes],
) -> None:
    table = ProcessTable(top_n=100_000)
    table.read(None)
    rows = {p.pid: p for p in table.read(None).processes}

    assert rows[sleeper.pid].cpu_percent == 0.0
    assert rows[sleeper.pid].memory_percent is None  # no memory total given


def test_an_exited_process_leaves_the_list(sleeper: subprocess.Popen[bytes]) -> None:
    table = ProcessTable(top_n=100_000)
    assert sleeper.pid in {p.pid for p in table.read(None).processes}

    sleeper.kill()
    sleeper.wait()

    assert sleeper.pid not in {p.pid for p in table.read(None).processes}


def test_the_list_keeps_the_top_processes_by_cpu_and_by_memory() -> None:
    rows = ProcessTable(top_n=3).read(None).processes

    assert 3 <= len(rows) <= 6
    biggest = max(
        (p for p in psutil.process_iter(["memory_info"]) if p.info["memory_info"]),
        key=lambda p: p.info["memory_info"].rss,
    )
    assert biggest.pid in {p.pid for p in rows}


def test_kernel_threads_show_their_name_in_brackets() -> None:
    kthreadd = psutil.Process(2)
    if kthreadd.name() != "kthreadd":
        pytest.skip("no kernel threads visible in this PID namespace")

    assert command_of(kthreadd, kthreadd.name()) == "[kthreadd]"


def test_describe_pid_of_this_process_and_of_a_gone_one() -> None:
    me = describe_pid(os.getpid())
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()

    assert me is not None
    assert me.command == " ".join(psutil.Process().cmdline())
    assert me.start_time == psutil.Process().create_time()
    assert describe_pid(gone.pid) is None


def test_an_argv_that_is_not_utf8_is_decoded_with_replacement() -> None:
    # A user's process whose argv holds an 8-bit CSI (0x9B), a stray 0xFF and a bidi override.
    # (As argv[0]: sleep itself would refuse them as arguments.)
    argv0 = b"\x9b31m\xff " + "\u202eevil".encode()
    proc = subprocess.Popen([argv0, "300"], executable="sleep")
    try:
        rows = {p.pid: p for p in ProcessTable(top_n=100_000).read(None).processes}
        described = describe_pid(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    expected = "\ufffd31m\ufffd \u202eevil 300"
    assert rows[proc.pid].command == expected
    assert described is not None and described.command == expected
    expected.encode("utf-8", "strict")  # no lone surrogate left to crash a strict stdout
