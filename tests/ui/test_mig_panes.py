"""MIG in the TUI (Pilot): instances under their GPU, instance processes, the grid count, the free view."""

from __future__ import annotations

import dataclasses
import json

from textual.pilot import Pilot

from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import MIB, Gpu, GpuProcess, HostSnapshot
from clustertop.model.mig import MigRef
from clustertop.parsers.nvidia_mig import join_mig, parse_gpu_list
from clustertop.parsers.nvidia_xml import parse_nvidia_smi_xml
from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.free import FreeGpusScreen
from clustertop.ui.screens.host import HostScreen
from tests.parsers._fixtures import read_fixture
from tests.ui.helpers import cell_text, host, scripted_app, until, wait_rows, widget_text

SIZE = (160, 48)
A100_UUID = "GPU-513536b6-7d19-9063-b049-1e69664bb298"
# `nvidia-smi -L` for the real A100 capture's GPU (that capture has no -L beside it).
LISTING = f"""GPU 0: NVIDIA A100-SXM4-80GB (UUID: {A100_UUID})
  MIG 1g.10gb     Device  0: (UUID: MIG-aaaaaaaa-0000-5000-8000-000000000000)
  MIG 1g.10gb     Device  1: (UUID: MIG-bbbbbbbb-0000-5000-8000-000000000000)
  MIG 1g.10gb     Device  2: (UUID: MIG-cccccccc-0000-5000-8000-000000000000)
  MIG 1g.10gb     Device  3: (UUID: MIG-dddddddd-0000-5000-8000-000000000000)
"""


def mig_gpu() -> Gpu:
    """The real A100-SXM4-80GB capture (4 MIG devices, GI 3-6) with the listing joined on."""
    gpus, _ = parse_nvidia_smi_xml(read_fixture("nvidia-smi-xml/a100-sxm4-80gb-mig-drv535.xml"))
    (gpu,) = join_mig(gpus, parse_gpu_list(LISTING)[0])
    return gpu


def mig_host(name: str = "mig01") -> HostSnapshot:
    """One MIG A100; bob's process runs in GI 4 (MIG device 1)."""
    base = host(name)
    gpu = mig_gpu()
    proc = GpuProcess(
        777, 0, A100_UUID, 3000 * MIB, "bob", "python serve.py", owner="bob", mig=MigRef(4, 0)
    )
    # GI 4 holds the process's memory, as nvidia-smi would show it.
    busy = dataclasses.replace(gpu.mig_instances[1], memory_used=3012 * MIB)
    gpu = dataclasses.replace(
        gpu, mig_instances=(gpu.mig_instances[0], busy, *gpu.mig_instances[2:])
    )
    return dataclasses.replace(
        base, gpus=(gpu,), gpu_processes=(proc,), containers=(), processes=()
    )


async def _host_screen(app: ClusterTopApp, pilot: Pilot[None], name: str) -> HostScreen:
    await wait_rows(app.grid.table, len(app.host_names()))
    app.go_to_host(name)
    await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, name)
    await pilot.pause()
    assert isinstance(app.screen, HostScreen)
    return app.screen


async def test_gpu_pane_shows_instances_indented_under_their_gpu() -> None:
    app, _ = scripted_app([mig_host()])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _host_screen(app, pilot, "mig01")
        await pilot.press("1")
        table = screen.current_table
        await wait_rows(table, 5)
        keys = table.ordered_keys()
        assert keys[0] == A100_UUID
        assert [cell_text(table, key, "idx") for key in keys] == ["0", "0:0", "0:1", "0:2", "0:3"]
        names = [cell_text(table, key, "name") for key in keys[1:]]
        assert names == [f"  └ 1g.10gb GI {gi}/CI 0" for gi in (3, 4, 5, 6)]
        assert cell_text(table, keys[1], "mem") == "0.0/19.5 GiB"
        assert cell_text(table, keys[2], "users") == "bob"
        assert cell_text(table, keys[1], "users") == "-"
        # Sorting by memory, either way, keeps the instances under their GPU.
        for _ in range(2):
            table.set_sort(3, reverse=_ == 1)
            await pilot.pause()
            assert table.ordered_keys() == keys
        await pilot.press("2")
        procs = screen.current_table
        await wait_rows(procs, 1)
        (key,) = procs.ordered_keys()
        assert cell_text(procs, key, "gpu") == "0:1"  # nvidia-smi's GPU:MIG device


async def test_gpu_pane_says_why_instances_are_missing() -> None:
    gpu = dataclasses.replace(
        mig_gpu(), mig_instances=(), mig_error="MIG devices not readable: Insufficient Permissions"
    )
    app, _ = scripted_app([dataclasses.replace(host("mig01"), gpus=(gpu,), gpu_processes=())])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _host_screen(app, pilot, "mig01")
        table = screen.current_table
        await wait_rows(table, 2)
        texts = [cell_text(table, key, "name") for key in table.ordered_keys()]
        assert texts == [
            "NVIDIA A100-SXM4-80GB",
            "  └ MIG devices not readable: Insufficient Permissions",
        ]


async def test_grid_and_summary_count_instances_and_say_so() -> None:
    app, _ = scripted_app([mig_host(), host("plain", gpu_processes=())], ClusterAnalysis())
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(app.grid.table, 2)
        await pilot.pause()
        assert cell_text(app.grid.table, "mig01", "gpus") == "□■□□ 3/4 free MIG"
        summary = widget_text(app.grid.query_one("#summary"))
        assert "GPUs 2 busy, 3 free of 5 (incl. 4 MIG instances)" in summary


async def test_free_view_lists_free_instances_with_their_mig_line() -> None:
    app, _ = scripted_app([mig_host()], ClusterAnalysis())
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_rows(app.grid.table, 1)
        await pilot.press("f")
        await until(
            lambda: isinstance(app.screen, FreeGpusScreen) and app.screen.is_mounted, "free"
        )
        view = app.screen
        assert isinstance(view, FreeGpusScreen)
        await wait_rows(view.table, 3)
        uuids = ["MIG-aaaaaaaa", "MIG-cccccccc", "MIG-dddddddd"]
        keys = view.table.ordered_keys()
        assert keys == [json.dumps(["mig01", f"{u}-0000-5000-8000-000000000000"]) for u in uuids]
        lines = [cell_text(view.table, key, "ready") for key in keys]
        assert lines == [
            f"ssh mig01 CUDA_VISIBLE_DEVICES={u}-0000-5000-8000-000000000000" for u in uuids
        ]
        assert cell_text(view.table, keys[1], "model") == "MIG 1g.10gb GI 5/CI 0"
        assert cell_text(view.table, keys[1], "gpu") == "0:2"
        assert "(incl. 3 MIG instances)" in widget_text(view.query_one(".view-summary"))
        assert view.table.go_to(keys[2])
        await pilot.press("c")
        assert app.clipboard == lines[2]
