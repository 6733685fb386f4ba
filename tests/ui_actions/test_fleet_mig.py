"""MIG in the TUI over SSH (Pilot): a fleet host replaying the real MIG captures shows its
instances under the GPU, the process in its instance, and the free view's MIG lines."""

from __future__ import annotations

from pathlib import Path

from clustertop.analysis.live import ClusterAnalysis
from clustertop.ui.screens.free import FreeGpusScreen
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H100_MIG, H200, gpu, spec
from tests.ui.helpers import cell_text, until
from tests.ui_actions.helpers import fleet_app, open_host

UUIDS = (
    "MIG-4d0efb7d-0970-51d9-b761-0686be6b8af3",
    "MIG-7d8b2e8d-57ea-5fe3-83bc-2026e5cb10fb",
    "MIG-ec4af7a3-3539-5cc0-88d2-bf7439a67c4b",
    "MIG-ee5bffff-7058-50a9-9e23-132b98e61920",
)
"""The real 8x H100 `nvidia-smi -L` capture's MIG devices 0-3 of GPU 0 (see fake_mig)."""


async def test_gpu_pane_processes_and_free_view_of_a_mig_host(
    clean_fleet: Fleet, tmp_path: Path
) -> None:
    h1 = clean_fleet["h1"]
    engine = h1.docker
    assert engine is not None
    engine.run_container("bob-serve", "sleep", "600")
    mig = gpu("h1", 0, H100_MIG, **{"utilization.gpu": "[N/A]"})
    h1.set_gpu_spec(
        spec(
            [{**mig, "mig": {"profile": "1g.20gb"}}, gpu("h1", 1, H200)],  # type: ignore[dict-item]
            [{"gpu": 0, "container": "bob-serve", "used_memory_mib": 3000, "gi": 4, "ci": 0}],
        )
    )
    audit = tmp_path / "audit.jsonl"
    async with fleet_app(clean_fleet, ["h1"], audit, analysis=ClusterAnalysis()) as (app, pilot):
        await until(
            lambda: cell_text(app.grid.table, "h1", "gpus") == "□■□□▁ 4/5 free MIG", "grid MIG"
        )
        screen = await open_host(app, pilot, "h1")
        await pilot.press("1")
        table = screen.current_table
        await until(lambda: table.row_count == 6, "two GPUs and four instances")
        keys = table.ordered_keys()
        assert keys[1:5] == list(UUIDS)
        assert [cell_text(table, key, "idx") for key in keys] == [
            "0",
            "0:0",
            "0:1",
            "0:2",
            "0:3",
            "1",
        ]
        assert cell_text(table, UUIDS[1], "name") == "  └ 1g.20gb GI 4/CI 0"
        assert cell_text(table, UUIDS[1], "users") == "bob"
        await pilot.press("2")
        procs = screen.current_table
        await until(lambda: procs.row_count == 1, "bob's process")
        (key,) = procs.ordered_keys()
        assert cell_text(procs, key, "gpu") == "0:1"
        assert cell_text(procs, key, "container") == "docker bob-serve"
        await pilot.press("escape")
        await pilot.press("f")
        await until(lambda: isinstance(app.screen, FreeGpusScreen), "free view")
        view = app.screen
        assert isinstance(view, FreeGpusScreen)
        await until(lambda: view.table.row_count == 4, "the H200 and three instances")
        lines = [cell_text(view.table, k, "ready") for k in view.table.ordered_keys()]
        assert lines == [
            *(f"ssh h1 CUDA_VISIBLE_DEVICES={UUIDS[dev]}" for dev in (0, 2, 3)),
            "ssh h1 CUDA_DEVICE_ORDER=PCI_BUS_ID CUDA_VISIBLE_DEVICES=1",
        ]
