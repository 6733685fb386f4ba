"""Frames over the channel's read limit, read from a real sshd: skipped to their end, never fatal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from clustertop.model import HostState
from clustertop.sources.ssh.reader import READ_LIMIT, read_frame
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import gpu, spec
from tests.reliability import record
from tests.ssh.helpers import LiveFleet
from tests.waiting import async_wait_for

END = "@ct0123456789abcdef d 7\n"
NEXT = "@ct0123456789abcdef t 8 1.0\n@ct0123456789abcdef d 8\n"


@pytest.fixture
async def connection(fleet: Fleet) -> AsyncIterator[asyncssh.SSHClientConnection]:
    # Plain asyncssh with the fleet's ssh config: these tests are about the reader only.
    conn = await asyncssh.connect(
        "h2", config=[str(fleet.ssh_config)], known_hosts=str(fleet.known_hosts)
    )
    try:
        yield conn
    finally:
        conn.close()


async def _frames_of(
    conn: asyncssh.SSHClientConnection, folder: Path, text: str
) -> list[tuple[str, bool]]:
    # The host is this machine: the frames are a file it prints, as the probe would.
    (folder / "frames").write_text(text)
    process = await conn.create_process(
        f"cat {folder / 'frames'}", encoding="utf-8", window=READ_LIMIT
    )
    try:
        first = await asyncio.wait_for(read_frame(process.stdout, END), 20)
        second = await asyncio.wait_for(read_frame(process.stdout, NEXT.split("\n")[1] + "\n"), 20)
        return [first, second]
    finally:
        process.close()


# How many characters of the end line lie within the limit: all (the frame fits), none (it
# begins right at the limit), or some (the limit cuts it).
PLACES = {
    "fits": len(END) + 100,
    "at": 0,
    "across-1": 1,
    "across-10": 10,
    "across-all-but-1": len(END) - 1,
}


@pytest.mark.parametrize("offset", PLACES.values(), ids=PLACES.keys())
async def test_the_frame_end_is_found_wherever_the_limit_cuts(
    connection: asyncssh.SSHClientConnection, tmp_path: Path, offset: int
) -> None:
    # A frame line, a body line, then the end line, `offset` characters of it within the limit.
    body = "@ct0123456789abcdef t 7 1.0\n" + "x" * (READ_LIMIT - 28 - 1 - offset) + "\n"
    (first, cut), (second, second_cut) = await _frames_of(connection, tmp_path, body + END + NEXT)
    if offset > len(END):
        assert (first, cut) == (body + END, False)
    else:
        assert cut and first == (body + END)[:READ_LIMIT]
    assert (second, second_cut) == (NEXT, False), "the next frame reads whole"


@pytest.mark.parametrize("lines", [1, 3], ids=["one-line-over-the-limit", "three-limits-of-lines"])
async def test_a_body_far_over_the_limit_is_skipped(
    connection: asyncssh.SSHClientConnection, tmp_path: Path, lines: int
) -> None:
    # One line longer than the limit, ending in the end line's text (not a line of its own), or
    # many ordinary lines.
    body = "x" * (READ_LIMIT + 10) + END if lines == 1 else ("y" * 99 + "\n") * (READ_LIMIT // 33)
    (first, cut), second = await _frames_of(connection, tmp_path, body + END + NEXT)
    assert cut and len(first) == READ_LIMIT
    assert second == (NEXT, False)


async def test_another_frames_end_line_is_part_of_the_frame(
    connection: asyncssh.SSHClientConnection, tmp_path: Path
) -> None:
    # Only this frame's own end line ends it (by number, not merely by marker): an earlier
    # number and a longer one are part of its body.
    body = "a\n@ct0123456789abcdef d 6\nb\n@ct0123456789abcdef d 17\nc\n"
    (first, cut), second = await _frames_of(connection, tmp_path, body + END + NEXT)
    assert (first, cut) == (body + END, False)
    assert second == (NEXT, False)


async def test_the_end_of_the_stream_is_still_the_end(
    connection: asyncssh.SSHClientConnection, tmp_path: Path
) -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        await _frames_of(connection, tmp_path, "z" * (READ_LIMIT + 5000))


@pytest.mark.reliability
async def test_an_oversized_gpu_section_is_reported_and_the_host_stays_up(
    clean_fleet: Fleet,
) -> None:
    # Twenty processes named with 300 KB each: the probe cuts each line at 256 KiB, but every
    # frame's GPU section is still over the limit. Frames that large take a busy machine a
    # while: a longer interval and more grace than usual.
    huge = [
        {"gpu": 0, "pid": 4242 + i, "used_memory_mib": 100, "process_name": "p" * 300_000}
        for i in range(20)
    ]
    async with LiveFleet(clean_fleet, ["h1"], interval=1.0, frame_grace=15.0) as live:
        await async_wait_for(
            lambda: "h1" in live.latest and live.latest["h1"].gpus and live.latest["h1"].cpu,
            20,
            what="GPUs and CPU",
        )
        clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)], huge))
        try:
            await async_wait_for(
                lambda: "over 2 MiB" in (live.latest["h1"].gpu_error or ""), 20, what="the note"
            )
            frames = len(live.history["h1"])
            await async_wait_for(lambda: len(live.history["h1"]) >= frames + 3, 20, what="frames")
            # (The stand-in stamps each row anew, so some samples hold fewer rows and fit.)
            noted = [snap for snap in live.history["h1"] if snap.gpu_error]
            assert {snap.gpu_error for snap in noted} == {"output over 2 MiB: skipped"}
            # The rest of each frame was skipped: the sections after GPUs keep their last data
            # (also in frames whose GPU section fitted and the cut fell in a later one).
            kept = [
                (bool(s.cpu), bool(s.memory), bool(s.processes), s.processes_error) for s in noted
            ]
            assert all(k == (True, True, True, None) for k in kept), kept
            # Once the sample fits again, it reads as before.
            clean_fleet["h1"].set_gpu_spec(
                spec([gpu("h1", 0)], [{**huge[0], "process_name": "py"}])
            )
            await async_wait_for(
                lambda: [p.command for p in live.latest["h1"].gpu_processes] == ["py"],
                20,
                what="the GPU process",
            )
            assert live.latest["h1"].gpu_error is None
        finally:
            clean_fleet["h1"].reset_gpu_spec()
    states = [s.state for s in live.history["h1"]]
    assert set(states[states.index(HostState.UP) :]) == {HostState.UP}
    record(
        "hostile",
        "huge-argv",
        "a frame over the 2 MiB read limit: skipped to its end, its section reported "
        "('output over 2 MiB: skipped'), the host stays up",
        frames=len(states),
    )
