"""What SSH fan-out at scale relies on: frames applied one per loop turn, frame ends, the cipher."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from clustertop.inventory.hosts import parse_host_spec
from clustertop.sources.ssh.applyq import ApplyQueue
from clustertop.sources.ssh.connect import SshSettings, host_options, open_connection
from clustertop.sources.ssh.gates import ConnectGates
from clustertop.sources.ssh.probe import new_marker
from clustertop.sources.ssh.reader import MARKER, READ_LIMIT, read_frame, read_ready
from tests.fleet.fleet import Fleet

MARK = "@ct0123456789abcdef"


@pytest.fixture
async def queue() -> AsyncIterator[ApplyQueue]:
    applier = ApplyQueue()
    worker = asyncio.create_task(applier.run())
    try:
        yield applier
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)


async def test_jobs_give_their_results_in_order(queue: ApplyQueue) -> None:
    done: list[int] = []

    def job(n: int) -> int:
        done.append(n)
        return n * 10

    results = await asyncio.gather(*(queue.apply(lambda n=n: job(n)) for n in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert done == [0, 1, 2, 3, 4]
    assert len(queue) == 0


async def test_a_failing_job_raises_in_its_caller_and_the_next_still_runs(
    queue: ApplyQueue,
) -> None:
    def bad() -> int:
        raise ValueError("unreadable frame")

    with pytest.raises(ValueError, match="unreadable frame"):
        await queue.apply(bad)
    assert await queue.apply(lambda: 7) == 7


async def test_the_loop_serves_other_work_between_two_jobs(queue: ApplyQueue) -> None:
    # A burst of frames must not hold up everything else queued on the loop (a key exchange's
    # packets): a callback scheduled while the first job runs runs before the second job.
    order: list[str] = []
    loop = asyncio.get_running_loop()

    def first() -> None:
        order.append("frame 1")
        loop.call_soon(order.append, "socket")

    await asyncio.gather(queue.apply(first), queue.apply(lambda: order.append("frame 2")))
    assert order == ["frame 1", "socket", "frame 2"]


async def test_a_cancelled_hosts_job_is_skipped(queue: ApplyQueue) -> None:
    ran: list[str] = []
    waiter = asyncio.ensure_future(queue.apply(lambda: ran.append("cancelled")))
    await asyncio.sleep(0)  # the job is queued; the worker has not run yet
    assert len(queue) == 1
    waiter.cancel()  # its host went away (reconnect, shutdown)
    assert await queue.apply(lambda: ran.append("next")) is None
    assert ran == ["next"]
    assert waiter.cancelled()


@pytest.fixture
async def connection(fleet: Fleet) -> AsyncIterator[asyncssh.SSHClientConnection]:
    conn = await asyncssh.connect(
        "h2", config=[str(fleet.ssh_config)], known_hosts=str(fleet.known_hosts)
    )
    try:
        yield conn
    finally:
        conn.close()


async def test_another_sequence_numbers_end_line_is_part_of_the_frame(
    connection: asyncssh.SSHClientConnection, tmp_path: Path
) -> None:
    # Only the end line of the tick asked for ends the frame (as when asyncssh searched for that
    # exact text); "d 17" and "d 71" are neither "d 7" nor cut there.
    frame = f"{MARK} t 7 1.0\n{MARK} d 17\nx\n{MARK} d 71\n{MARK} d 7\n"
    following = f"{MARK} t 8 2.0\n{MARK} d 8\n"
    (tmp_path / "frames").write_text(frame + following)
    process = await connection.create_process(
        f"cat {tmp_path / 'frames'}", encoding="utf-8", window=READ_LIMIT
    )
    try:
        first = await asyncio.wait_for(read_frame(process.stdout, f"{MARK} d 7\n"), 20)
        second = await asyncio.wait_for(read_frame(process.stdout, f"{MARK} d 8\n"), 20)
    finally:
        process.close()
    assert first == (frame, False)
    assert second == (following, False)


async def test_another_markers_lines_neither_end_a_frame_nor_start_the_probe(
    connection: asyncssh.SSHClientConnection, tmp_path: Path
) -> None:
    # The patterns are compiled once for every marker: a line with another one reads on.
    other = "@ct00000000000000ff"
    ready = f"noise {other} ready 1 2 3\n{MARK} ready 1 100 4096 h2\n"
    frame = f"{MARK} t 7 1.0\nx {other} d 7\n{other} d 7\n{MARK} d 7\n"
    (tmp_path / "frames").write_text(ready + frame)
    process = await connection.create_process(
        f"cat {tmp_path / 'frames'}", encoding="utf-8", window=READ_LIMIT
    )
    try:
        found = await asyncio.wait_for(read_ready(process.stdout, MARK), 20)
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        first = await asyncio.wait_for(read_frame(process.stdout, f"{MARK} d 7\n"), 20)
    finally:
        process.close()
    assert found == f"noise {other} ready 1 2 3\n{MARK} ready "
    assert line == "1 100 4096 h2\n"
    assert first == (frame, False)


def test_every_new_marker_has_the_form_the_patterns_expect() -> None:
    assert all(re.fullmatch(MARKER, new_marker()) for _ in range(100))


async def test_aes_gcm_comes_first_unless_the_ssh_config_names_ciphers(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("Host *\n  User someone\n")
    chosen = tmp_path / "chosen"
    chosen.write_text("Host *\n  Ciphers chacha20-poly1305@openssh.com,aes256-ctr\n")
    spec = parse_host_spec("node1")
    default = await host_options(spec, SshSettings(config_paths=(plain,)))
    assert list(default.encryption_algs[:2]) == [
        b"aes128-gcm@openssh.com",
        b"aes256-gcm@openssh.com",
    ]
    assert b"chacha20-poly1305@openssh.com" in default.encryption_algs  # still offered
    own = await host_options(spec, SshSettings(config_paths=(chosen,)))
    assert list(own.encryption_algs) == [b"chacha20-poly1305@openssh.com", b"aes256-ctr"]


async def test_openssh_agrees_on_aes_gcm(fleet: Fleet) -> None:
    settings = SshSettings(config_paths=(fleet.ssh_config,), known_hosts=fleet.known_hosts)
    conn = await open_connection(parse_host_spec("h1"), settings, ConnectGates.create(2))
    try:
        assert conn.get_extra_info("send_cipher") == "aes128-gcm@openssh.com"
        result = await conn.run("echo up", check=True)
        assert result.stdout == "up\n"
    finally:
        conn.close()


async def test_the_ssh_configs_ciphers_are_kept_with_openssh(fleet: Fleet, tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("Ciphers aes256-ctr\n" + fleet.ssh_config.read_text())
    settings = SshSettings(config_paths=(config,), known_hosts=fleet.known_hosts)
    conn = await open_connection(parse_host_spec("h1"), settings, ConnectGates.create(2))
    try:
        assert conn.get_extra_info("send_cipher") == "aes256-ctr"
    finally:
        conn.close()
