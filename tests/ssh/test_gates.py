"""Connection gates: hosts never tried go before retries, and a host that gives up frees its place."""

from __future__ import annotations

import asyncio

from clustertop.sources.ssh.gates import FIRST_TRY, RETRY, ConnectGates, Gate


async def _enter(gate: Gate, rank: int, name: str, order: list[str], go: asyncio.Event) -> None:
    async with gate.slot(rank):
        order.append(name)
        await go.wait()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_never_tried_hosts_go_before_retries_then_in_arrival_order() -> None:
    gate = Gate(1)
    order: list[str] = []
    go = asyncio.Event()
    holder = asyncio.create_task(_enter(gate, FIRST_TRY, "holder", order, go))
    await _settle()
    ranks = [("retry-a", RETRY), ("new-a", FIRST_TRY), ("retry-b", RETRY), ("new-b", FIRST_TRY)]
    tasks = [asyncio.create_task(_enter(gate, r, n, order, go)) for n, r in ranks]
    await _settle()
    assert order == ["holder"] and gate.waiting == 4
    go.set()
    await asyncio.gather(holder, *tasks)
    assert order == ["holder", "new-a", "new-b", "retry-a", "retry-b"]
    assert gate.waiting == 0


async def test_a_cancelled_waiter_does_not_keep_its_place_or_a_slot() -> None:
    gate = Gate(1)
    order: list[str] = []
    go = asyncio.Event()
    holder = asyncio.create_task(_enter(gate, FIRST_TRY, "holder", order, go))
    await _settle()
    leaving = asyncio.create_task(_enter(gate, FIRST_TRY, "leaving", order, go))
    staying = asyncio.create_task(_enter(gate, RETRY, "staying", order, go))
    await _settle()
    leaving.cancel()
    await _settle()
    go.set()
    await asyncio.gather(holder, staying)
    assert leaving.cancelled()
    assert order == ["holder", "staying"]
    # The slot is free again: a newcomer gets in (a lost slot would hang here, up to the bound).
    await asyncio.wait_for(_enter(gate, RETRY, "again", order, go), 10)
    assert order[-1] == "again" and gate.waiting == 0


def test_connects_are_never_fewer_than_handshakes() -> None:
    gates = ConnectGates.create(max_handshakes=16, max_connects=4)
    assert (gates.connects.size, gates.handshakes.size) == (16, 16)
    wide = ConnectGates.create(max_handshakes=16)
    assert wide.connects.size > wide.handshakes.size
