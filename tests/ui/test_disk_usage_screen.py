"""Enter on a mount: du runs (on demand, here on a real tree), shows its result, caches it."""

from __future__ import annotations

import os
from pathlib import Path

from textual.pilot import Pilot

from clustertop.actions.demo_runner import DemoActionRunner
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.model import Disk
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.screens.disk_usage import DiskUsageScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.widgets.table_sync import KeyedTable
from tests.ui.helpers import cell_text, host, scripted_app, until, wait_rows, widget_text


def _tree(root: Path) -> None:
    for name, size in (("big/a.bin", 2 << 20), ("small/b.bin", 64 << 10)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(os.urandom(size))


async def _disks_pane(app: ClusterTopApp, pilot: Pilot[None], mount: str) -> HostScreen:
    await wait_rows(app.grid.table, 1)
    app.go_to_host("a")
    await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, HostScreen)
    await pilot.press("5")
    assert screen.current_table.go_to(mount)
    return screen


async def test_enter_on_a_mount_lists_its_largest_directories_then_shows_them_cached(
    tmp_path: Path,
) -> None:
    root = tmp_path / "vol"
    _tree(root)
    disk = Disk(str(root), "/dev/test", "ext4", 100 << 20, 10 << 20, 90 << 20)
    docker = f"unix://{tmp_path}/no-docker.sock"
    app, _ = scripted_app([host("a", disks=(disk,))], runner=LocalActionRunner(docker))
    async with app.run_test(size=(160, 40)) as pilot:
        await _disks_pane(app, pilot, str(root))
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DiskUsageScreen), "du screen")
        usage = app.screen
        table = usage.query_one(KeyedTable)
        await until(lambda: table.row_count == 3, "vol, big and small")
        assert cell_text(table, str(root / "big"), "size").endswith("MiB")
        status = usage.query_one("#du-status")
        await until(lambda: "complete in" in widget_text(status), "complete")
        docker_line = usage.query_one("#du-docker")
        await until(lambda: "no-docker.sock" in widget_text(docker_line), "docker's error")
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, HostScreen), "back")
        await pilot.press("enter")  # again: the cached result at once, with its age
        await until(lambda: isinstance(app.screen, DiskUsageScreen), "du screen again")
        again = app.screen
        assert again.query_one(KeyedTable).row_count == 3
        assert "old" in widget_text(again.query_one("#du-status"))


async def test_readonly_runs_no_du(tmp_path: Path) -> None:
    disk = Disk(str(tmp_path), "/dev/test", "ext4", 100, 10, 90)
    app, _ = scripted_app([host("a", disks=(disk,))], runner=LocalActionRunner(), readonly=True)
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await _disks_pane(app, pilot, str(tmp_path))
        await pilot.press("enter")
        await until(lambda: app.screen.query("Toast"), "a notice")
        assert "--readonly" in str(app.screen.query("Toast").first().render())
        assert isinstance(app.screen, HostScreen)


async def test_on_the_demo_du_says_it_cannot_run() -> None:
    source = DemoSource(frozen=True)
    runner = DemoActionRunner(source)
    app = ClusterTopApp(source, options=AppOptions(clock=source.clock, runner=runner))
    async with app.run_test(size=(160, 40)) as pilot:
        while app.grid.table.row_count < len(app.host_names()):
            await pilot.pause(0.05)
        app.go_to_host("storage01")
        await until(lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, "host")
        await pilot.pause()
        await pilot.press("5")
        assert app.screen.current_table.go_to("/data")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, DiskUsageScreen), "du screen")
        status = app.screen.query_one("#du-status")
        await until(lambda: "du did not run" in widget_text(status), "the reason")
