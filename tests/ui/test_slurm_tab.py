"""The Slurm jobs tab exists only on Slurm hosts: the demo's hosts run no slurmd."""

from __future__ import annotations

from textual.widgets import TabbedContent

from clustertop.ui.slurm_pane import SLURM_PANE
from tests.ui_actions.helpers import SIZE, demo_app, open_host


async def test_no_slurm_tab_on_a_host_without_slurm() -> None:
    app, source = demo_app()
    async with app.run_test(size=SIZE) as pilot:
        host = source.host_names[0]
        screen = await open_host(app, pilot, host)
        tabs = screen.query_one(TabbedContent)
        assert not tabs.get_tab(f"pane-{SLURM_PANE}").display
        assert not screen.check_action("show_pane", (SLURM_PANE,))
        before = screen.current_pane.id
        await pilot.press("9")
        await pilot.pause()
        assert screen.current_pane.id == before != SLURM_PANE
