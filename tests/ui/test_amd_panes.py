"""AMD GPUs in the host screen: the same panes, the vendor named where a host mixes vendors."""

from __future__ import annotations

import dataclasses

from clustertop.model import Gpu, GpuProcess
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import GIB, cell_text, host, scripted_app, wait_rows
from tests.waiting import async_wait_for

BUS = "0000:83:00.0"


def _amd(index: int, bus: str) -> Gpu:
    return Gpu(
        index, bus, "AMD Instinct MI210", 97.0, 20 * GIB, 64 * GIB, 61.0, 287.0, 300.0,
        bus_id=bus, vendor="amd",
    )  # fmt: skip


async def test_mixed_host_names_vendors_in_both_gpu_panes() -> None:
    base = host("mix")
    nvidia = base.gpus[0]
    amd = _amd(0, BUS)
    proc = GpuProcess(4242, 0, BUS, 3 * GIB, user="alice", command="python train.py", owner="alice")
    snap = dataclasses.replace(base, gpus=(nvidia, amd), gpu_processes=(proc,))
    app, _ = scripted_app([snap])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_rows(app.grid.table, 1)
        app.go_to_host("mix")
        await async_wait_for(lambda: isinstance(app.screen, HostScreen), what="host screen")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HostScreen)
        table = screen.current_table
        await wait_rows(table, 2)
        assert cell_text(table, BUS, "name") == "AMD · AMD Instinct MI210"
        assert cell_text(table, nvidia.uuid, "name") == f"NVIDIA · {nvidia.name}"
        assert cell_text(table, BUS, "users") == "alice"
        await pilot.press("2")
        table = screen.current_table
        await wait_rows(table, 1)
        row = f"4242:None:{BUS}"
        assert (cell_text(table, row, "gpu"), cell_text(table, row, "gpumem")) == ("A0", "3.0 GiB")


async def test_an_amd_only_host_shows_plain_names_and_indices() -> None:
    proc = GpuProcess(7, 1, "0000:c3:00.0", GIB, user="bob", command="hip", owner="bob")
    snap = dataclasses.replace(
        host("mi"), gpus=(_amd(0, BUS), _amd(1, "0000:c3:00.0")), gpu_processes=(proc,)
    )
    app, _ = scripted_app([snap])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_rows(app.grid.table, 1)
        app.go_to_host("mi")
        await async_wait_for(lambda: isinstance(app.screen, HostScreen), what="host screen")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HostScreen)
        await wait_rows(screen.current_table, 2)
        assert cell_text(screen.current_table, BUS, "name") == "AMD Instinct MI210"
        await pilot.press("2")
        await wait_rows(screen.current_table, 1)
        assert cell_text(screen.current_table, "7:None:0000:c3:00.0", "gpu") == "1"


async def test_figures_from_a_slower_reading_say_how_old_they_are() -> None:
    # A host without sysfs: amd-smi metric every AMDMETRICEVERY ticks, values 150 s old.
    old = dataclasses.replace(_amd(0, BUS), reading_age_s=150.0)
    snap = dataclasses.replace(host("box"), gpus=(old, _amd(1, "0000:c3:00.0")), gpu_processes=())
    app, _ = scripted_app([snap])
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_rows(app.grid.table, 1)
        app.go_to_host("box")
        await async_wait_for(lambda: isinstance(app.screen, HostScreen), what="host screen")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HostScreen)
        await wait_rows(screen.current_table, 2)
        assert cell_text(screen.current_table, BUS, "name") == "2m30s old · AMD Instinct MI210"
        # Read this tick (sysfs): no age.
        assert cell_text(screen.current_table, "0000:c3:00.0", "name") == "AMD Instinct MI210"
