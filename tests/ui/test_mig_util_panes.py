"""MIG instance utilisation in the TUI (Pilot): "unknown" where nvidia-smi gives none, the
exporter's figure where it does, and instances without device index or UUID (dcgm-exporter)
each on their own row in the GPU pane and the free view."""

from __future__ import annotations

import dataclasses

from clustertop.analysis.live import ClusterAnalysis
from clustertop.analysis.stale import StaleTracker
from clustertop.model import MIB, HostSnapshot
from clustertop.model.mig import MigInstance
from clustertop.ui.screens.free import FreeGpusScreen
from tests.ui.helpers import cell_text, host, scripted_app, until, wait_rows
from tests.ui.test_mig_panes import SIZE, _host_screen, mig_host


def _exporter_host() -> HostSnapshot:
    """The A100 with its instances as dcgm-exporter names them: GI only, utilisation known."""
    snap = mig_host("prom01")
    gpu = snap.gpus[0]
    instances = tuple(
        MigInstance(None, gi, None, "1g.10gb", None, used * MIB, 9984 * MIB, util_percent=util)
        for gi, used, util in ((3, 12, 0.0), (4, 3012, 63.5), (5, 12, 1.2))
    )
    return dataclasses.replace(
        snap, gpus=(dataclasses.replace(gpu, mig_instances=instances),), gpu_processes=()
    )


async def test_nvidia_smi_instances_say_utilisation_unknown() -> None:
    app, _ = scripted_app([mig_host()])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _host_screen(app, pilot, "mig01")
        await pilot.press("1")
        table = screen.current_table
        await wait_rows(table, 5)
        keys = table.ordered_keys()
        assert [cell_text(table, key, "util") for key in keys[1:]] == ["unknown"] * 4


async def test_exporter_instances_show_their_utilisation_on_their_own_rows() -> None:
    app, _ = scripted_app([_exporter_host(), host("plain", gpu_processes=())], ClusterAnalysis())
    async with app.run_test(size=SIZE) as pilot:
        screen = await _host_screen(app, pilot, "prom01")
        await pilot.press("1")
        table = screen.current_table
        await wait_rows(table, 4)
        keys = table.ordered_keys()
        utils = [cell_text(table, key, "util").split()[-1] for key in keys[1:]]
        assert utils == ["0%", "64%", "1%"]
        assert [cell_text(table, key, "idx") for key in keys[1:]] == ["0:N/A"] * 3
        await pilot.press("escape")
        await pilot.press("f")
        await until(
            lambda: isinstance(app.screen, FreeGpusScreen) and app.screen.is_mounted, "free"
        )
        view = app.screen
        assert isinstance(view, FreeGpusScreen)
        await wait_rows(view.table, 2)  # GI 3 and GI 5: free; GI 4 holds 3012 MiB
        models = [cell_text(view.table, key, "model") for key in view.table.ordered_keys()]
        assert models == ["MIG 1g.10gb GI 3/CI ?", "MIG 1g.10gb GI 5/CI ?"]


async def test_a_stale_instance_is_marked_in_the_gpu_pane() -> None:
    snap = _exporter_host()
    gpu = snap.gpus[0]
    idle = tuple(dataclasses.replace(i, util_percent=0.5) for i in gpu.mig_instances)
    snap = dataclasses.replace(snap, gpus=(dataclasses.replace(gpu, mig_instances=idle),))
    analysis = ClusterAnalysis(stale=StaleTracker(stale_after=0.0))
    app, _ = scripted_app([snap], analysis)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _host_screen(app, pilot, "prom01")
        await pilot.press("1")
        table = screen.current_table
        await wait_rows(table, 4)
        await until(
            lambda: "stale" in cell_text(table, table.ordered_keys()[2], "name"), "stale mark"
        )
        names = [cell_text(table, key, "name") for key in table.ordered_keys()[1:]]
        # Only GI 4 holds memory (3012 MiB); the others hold 12 MiB each.
        assert names == [
            "  └ 1g.10gb GI 3/CI ?",
            "  └ 1g.10gb GI 4/CI ? stale",
            "  └ 1g.10gb GI 5/CI ?",
        ]
    [alert] = [a for a in analysis.alerts() if a.kind.value == "stale-mig-instance"]
    assert alert.message == "MIG 1g.10gb GI 4/CI ? on GPU 0 holds 2.9 GiB, idle for 0 min"
