"""The free GPUs view: exactly the analysis' free GPUs, grouped by host; `c` copies the ssh line."""

from __future__ import annotations

import json

from clustertop.analysis.free_gpus import free_gpus
from clustertop.analysis.live import ClusterAnalysis
from clustertop.ui.screens.free import FreeGpusScreen
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import cell_text, until, widget_text
from tests.views.helpers import SIZE, demo_app, grid_ready, open_view


async def test_rows_are_every_free_gpu_grouped_by_host_in_analysis_order() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "f", FreeGpusScreen)
        expected = free_gpus(app.live.store.all())
        table = view.table
        keys = [json.dumps([entry.host, gpu.uuid]) for entry in expected for gpu in entry.gpus]
        assert table.ordered_keys() == keys
        for entry in expected:
            first, *rest = (json.dumps([entry.host, gpu.uuid]) for gpu in entry.gpus)
            assert cell_text(table, first, "host") == entry.host
            assert cell_text(table, first, "free") == str(len(entry.gpus))
            assert cell_text(table, first, "ready") == entry.ready_line
            assert all(cell_text(table, key, "ready") == "" for key in rest)
            shown = [int(cell_text(table, key, "gpu")) for key in (first, *rest)]
            assert shown == list(entry.indices)
        # The demo as a reader sees it: gpu15 has three idle A100s and comes first.
        assert expected[0].ready_line == "ssh gpu15 CUDA_VISIBLE_DEVICES=0,1,2"
        total = sum(len(entry.gpus) for entry in expected)
        summary = widget_text(view.query_one(".view-summary"))
        assert f"Free GPUs {total} on {len(expected)} hosts" in summary


async def test_c_copies_the_selected_hosts_ready_line_from_any_of_its_rows() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "f", FreeGpusScreen)
        expected = free_gpus(app.live.store.all())
        second = expected[1]
        assert view.table.go_to(json.dumps([second.host, second.gpus[-1].uuid]))
        await pilot.press("c")
        assert app.clipboard == second.ready_line
        await until(lambda: app.screen.query("Toast"), "a notification")
        toast = str(app.screen.query("Toast").first().render())
        assert second.ready_line in toast
        await pilot.press("enter")
        await until(
            lambda: isinstance(app.screen, HostScreen) and app.screen.host == second.host, "host"
        )


async def test_thresholds_come_from_the_analysis_config() -> None:
    strict = ClusterAnalysis(free_gpu_memory_mib=0, free_gpu_util_percent=0.0)
    app, _ = demo_app(history=False, analysis=strict)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "f", FreeGpusScreen)
        expected = free_gpus(app.live.store.all(), memory_mib=0, util_percent=0.0)
        default = free_gpus(app.live.store.all())
        shown = sum(len(entry.gpus) for entry in expected)
        assert shown < sum(len(entry.gpus) for entry in default)
        assert view.table.row_count == shown
        assert "≤ 0 MiB used, ≤ 0% busy" in widget_text(view.query_one(".view-summary"))
