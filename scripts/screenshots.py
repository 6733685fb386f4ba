"""Save SVG screenshots of the UI, driven headless over the frozen demo cluster."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from textual.pilot import Pilot

from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.sources.demo.source import DemoSource
from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.screens.confirm import ConfirmScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.screens.logs import LogsScreen

SHOTS = (
    ("host-gpus.svg", "dgx-a", "1"),
    ("host-gpu-processes.svg", "dgx-a", "2"),
    ("host-containers.svg", "gpu02", "3"),
    ("host-processes.svg", "gpu05", "4"),
    ("host-disks.svg", "storage01", "5"),
)
"""File, host, pane key: each pane on a host where it has something to show."""
VIEWS = (("users.svg", "u"), ("free.svg", "f"), ("alerts.svg", "a"))
"""File, grid key: the cluster-wide views."""
HISTORY = ("history.svg", "dgx-a", "6")
"""File, host, pane key of the History tab (its charts: the demo's made-up last hour)."""
ACTION_SHOTS = (
    ("confirm.svg", "gpu02", ("3", "down", "D"), ConfirmScreen),
    ("logs.svg", "gpu02", ("3", "l"), LogsScreen),
)
"""File, host, keys, screen: removing a running container (force offered), a container's log."""


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def _host_pane(
    app: ClusterTopApp, pilot: Pilot[None], out: Path, shot: tuple[str, str, str]
) -> Path:
    """Open `host`, press its pane `key`, save `filename`."""
    filename, host, key = shot
    app.go_to_host(host)
    await _settle(pilot)
    await pilot.press(key)
    await _settle(pilot)
    assert isinstance(app.screen, HostScreen)
    return Path(app.save_screenshot(filename, str(out)))


async def _action_shot(
    app: ClusterTopApp,
    pilot: Pilot[None],
    out: Path,
    shot: tuple[str, str, tuple[str, ...], type],
) -> Path:
    """Press the keys on the host until the screen shows, save the file, close it (nothing runs)."""
    filename, host, keys, screen = shot
    app.go_to_host(host)
    await _settle(pilot)
    await pilot.press(*keys)
    while not isinstance(app.screen, screen):
        await pilot.pause(0.05)
    if isinstance(app.screen, LogsScreen):
        while app.screen.log_widget.line_count < 200:
            await pilot.pause(0.05)
    await _settle(pilot)
    path = Path(app.save_screenshot(filename, str(out)))
    await pilot.press("escape")
    return path


async def take(out: Path, size: tuple[int, int]) -> list[Path]:
    """Grid, every host pane, the help, the cluster views and the History tab, as SVG files."""
    out.mkdir(parents=True, exist_ok=True)
    source = DemoSource(frozen=True)
    # Exactly as `clustertop --demo` builds it (stale at once, an hour of history, demo actions).
    app = build_app(source, Config(stale_after=0.0), clock=source.clock)
    saved: list[Path] = []
    async with app.run_test(size=size) as pilot:
        while not app.grid.table.row_count:
            await pilot.pause(0.05)
        await _settle(pilot)
        saved.append(Path(app.save_screenshot("grid.svg", str(out))))
        for shot in SHOTS:
            saved.append(await _host_pane(app, pilot, out, shot))
        await pilot.press("question_mark")
        await _settle(pilot)
        saved.append(Path(app.save_screenshot("help.svg", str(out))))
        await pilot.press("escape", "escape")
        for filename, key in VIEWS:
            await _settle(pilot)
            await pilot.press(key)
            await _settle(pilot)
            assert isinstance(app.screen, ClusterView)
            saved.append(Path(app.save_screenshot(filename, str(out))))
            await pilot.press("escape")
        saved.append(await _host_pane(app, pilot, out, HISTORY))
        for shot in ACTION_SHOTS:
            saved.append(await _action_shot(app, pilot, out, shot))
        await pilot.press("q")
    return saved


def main() -> None:
    """Parse --out and --size, then save the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    parser.add_argument("--size", default="160x48", help="terminal size, COLUMNSxROWS")
    args = parser.parse_args()
    columns, rows = (int(part) for part in args.size.split("x"))
    for path in asyncio.run(take(args.out, (columns, rows))):
        print(path)


if __name__ == "__main__":
    main()
