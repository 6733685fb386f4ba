"""The TUI on this machine (no arguments): the real local source, a real Docker engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.sources.local.source import LocalSource
from tests.fleet.dockerd import DockerEngine
from tests.ui.helpers import until, widget_text


@pytest.fixture
def engine_with_job(docker_engine: DockerEngine) -> tuple[DockerEngine, str]:
    name = "alice-localtui"
    docker_engine.cli("rm", "-f", name, check=False)
    docker_engine.run_container(name, "sleep", "600")
    return docker_engine, name


async def test_local_tui_shows_this_machine_in_every_pane(
    engine_with_job: tuple[DockerEngine, str], tmp_path: Path
) -> None:
    engine, container = engine_with_job
    source = LocalSource(0.5, docker_host=engine.host)
    app = build_app(source, Config(interval=0.5, audit_log=tmp_path / "audit.jsonl"))
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await until(lambda: app.grid.table.row_count == 1, "the grid row of this machine")
            await until(lambda: "localhost" in widget_text(app.grid.table), "localhost shown")
            first = widget_text(app.grid.table)
            await until(lambda: widget_text(app.grid.table) != first, "a live update")
            await pilot.press("enter")
            screen = app.host_screen
            await until(lambda: app.screen is screen, "the host screen")
            # No GPU here: the GPU panes are empty and the header says why.
            header = screen.query_one("#host-header")
            await until(lambda: "GPU: NVIDIA driver not loaded" in widget_text(header), "why")
            for key, want in (("3", container), ("4", "python"), ("5", "/")):
                await pilot.press(key)
                await until(
                    lambda w=want: w in widget_text(screen.current_table), f"pane {key} rows"
                )
                assert screen.current_table.row_count > 0
            await pilot.press("escape")
            await until(lambda: app.screen is app.grid, "back on the grid")
            await pilot.press("q")
        assert app.return_code in (0, None)
    finally:
        engine.cli("rm", "-f", container, check=False)


async def test_local_tui_says_why_docker_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "none.sock"
    source = LocalSource(0.5, docker_host=f"unix://{missing}")
    app = build_app(source, Config(interval=0.5, audit_log=tmp_path / "audit.jsonl"))
    async with app.run_test(size=(160, 48)) as pilot:
        await until(lambda: app.grid.table.row_count == 1, "the grid row")
        await pilot.press("enter")
        await until(lambda: app.screen is app.host_screen, "the host screen")
        header = app.host_screen.query_one("#host-header")
        await until(lambda: str(missing) in widget_text(header), "the docker error")
        await pilot.press("4")
        await until(lambda: app.host_screen.current_table.row_count > 0, "processes still shown")
