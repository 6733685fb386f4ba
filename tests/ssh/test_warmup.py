"""The cold-start policy: hosts already up are ticked less often while others still connect."""

from __future__ import annotations

import asyncio

from clustertop.model import Section
from clustertop.sources.ssh.assemble import FrameAssembler
from clustertop.sources.ssh.gates import Gate
from clustertop.sources.ssh.probe import parse_frame
from clustertop.sources.ssh.warmup import RELEASE, Warmup
from clustertop.util.aio import Flag
from tests.ssh.test_frames import GPU, SYS, M, _frame, _section


def _dues(warmup: Warmup, ticks: int) -> list[bool]:
    """Which of `ticks` ticks one host gets, its count starting again at each one it gets."""
    got, withheld = [], 0
    for _ in range(ticks):
        due = warmup.due(withheld)
        got.append(due)
        withheld = 0 if due else withheld + 1
    return got


def test_a_host_up_gets_every_third_tick_until_every_host_had_data_or_failed() -> None:
    warmup = Warmup(["a", "b", "c"], stride=3)
    assert _dues(warmup, 6) == [False, False, True, False, False, True]
    warmup.settled("a")
    warmup.settled("b")
    assert warmup.active
    assert _dues(warmup, 3) == [False, False, True]
    warmup.settled("c")  # had data, or failed: either way it no longer holds the others back
    assert not warmup.active
    assert _dues(warmup, 4) == [True] * 4
    warmup.settled("a")  # a host settling again (reconnected) changes nothing
    assert _dues(warmup, 2) == [True, True]


def test_each_host_counts_from_its_own_last_frame() -> None:
    warmup = Warmup(["late"], stride=3)
    # A host whose last frame came two ticks ago is due; one whose frame just came is not.
    assert warmup.due(2)
    assert not warmup.due(0)


def test_a_fleet_the_handshake_gate_takes_at_once_is_never_held() -> None:
    gate = Gate(16)
    assert not Warmup.for_fleet([f"h{i}" for i in range(16)], gate).active
    held = Warmup.for_fleet([f"h{i}" for i in range(17)], gate)
    assert held.active


async def test_hosts_up_are_held_only_while_a_handshake_runs_or_waits() -> None:
    gate = Gate(1)
    warmup = Warmup.for_fleet(["up", "silent", "late"], gate)
    # Nothing in the gate (the hosts left wait for a TCP answer, which costs no CPU): every tick.
    assert not warmup.holding
    assert _dues(warmup, 3) == [True, True, True]
    async with gate.slot():
        assert warmup.holding
        assert _dues(warmup, 3) == [False, False, True]
    assert _dues(warmup, 2) == [True, True]
    assert warmup.active  # still warming up: held again once a handshake starts


async def test_a_second_frame_waits_for_a_tick_the_hosts_up_get() -> None:
    warmup = Warmup(["a", "b"], stride=3)
    tick = Flag()  # what a session passes
    entered = asyncio.Event()

    async def second() -> None:
        async with warmup.second_frame(tick):
            entered.set()

    task = asyncio.create_task(second())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not entered.is_set()
    tick.set()  # a due tick
    await asyncio.wait_for(task, 10)
    assert entered.is_set()


async def test_a_second_frame_goes_at_once_when_warm_up_ends() -> None:
    warmup = Warmup(["a", "b"], stride=3)
    tick = Flag()  # what a session passes
    task = asyncio.create_task(_enter(warmup, tick))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not task.done()
    warmup.settled("a")
    warmup.settled("b")
    await asyncio.wait_for(task, 10)


async def test_second_frames_held_back_go_a_few_at_a_time() -> None:
    warmup = Warmup(["late"], stride=3)
    tick = Flag()  # what a session passes
    inside = 0
    most = 0
    release = asyncio.Event()

    async def second() -> None:
        nonlocal inside, most
        async with warmup.second_frame(tick):
            inside += 1
            most = max(most, inside)
            await release.wait()
            inside -= 1

    tasks = [asyncio.create_task(second()) for _ in range(RELEASE + 8)]
    tick.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert inside == RELEASE
    release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert most == RELEASE


async def test_without_warm_up_a_second_frame_never_waits() -> None:
    await asyncio.wait_for(_enter(Warmup(["a"], hold=False), asyncio.Event()), 10)


async def test_for_once_ticks_are_held_but_a_second_frame_never_waits() -> None:
    warmup = Warmup(["a"], second_waits=False)  # --once needs every host's CPU deltas at once
    assert _dues(warmup, 3) == [False, False, True]
    await asyncio.wait_for(_enter(warmup, asyncio.Event()), 10)


async def _enter(warmup: Warmup, tick: asyncio.Event) -> None:
    async with warmup.second_frame(tick):
        pass


def test_withheld_ticks_do_not_make_older_readings_stale_but_newer_ones_still_can() -> None:
    # Frame 1 at 1000; two ticks withheld (1002, 1004); frame 2 at 1006 with the GPU query still
    # running; frame 3 at 1012 with both the GPU query and the system section still running.
    times = iter([1000.0, 1002.0, 1004.0, 1006.0, 1012.0])
    assembler = FrameAssembler("gpu01", M, clock=lambda: next(times))
    sections = (_section("sys", SYS, started=200.0), _section("gpu", GPU, started=200.0))
    assembler.apply(parse_frame(_frame(1, 200.0, *sections), M), 1.0)
    assembler.withheld(2.0)
    assembler.withheld(2.0)
    frame = _frame(2, 206.0, _section("sys", SYS, started=206.0), pending="gpu 205.0")
    snap = assembler.apply(parse_frame(frame, M), 1.0)
    assert snap.gpus
    # 6 s old: within its 2 s interval + 3 s + the 4 s withheld, so not reported stale.
    assert Section.GPU not in snap.stale
    frame = _frame(3, 212.0, pending="gpu 205.0 sys 211.0")
    snap = assembler.apply(parse_frame(frame, M), 1.0)
    assert snap.stale[Section.GPU] == 12.0  # past even the withheld time
    assert snap.stale[Section.SYSTEM] == 6.0  # read after the withheld ticks: no extra time
