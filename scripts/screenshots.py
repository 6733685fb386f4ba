"""Save SVG screenshots of the UI, driven headless over the frozen demo cluster."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from textual.pilot import Pilot

from clustertop.sources.demo import DemoSource
from clustertop.ui import ClusterTopApp
from clustertop.ui.host_screen import HostScreen

SHOTS = (
    ("host-gpus.svg", "dgx-a", "1"),
    ("host-gpu-processes.svg", "dgx-a", "2"),
    ("host-containers.svg", "gpu02", "3"),
    ("host-processes.svg", "gpu05", "4"),
    ("host-disks.svg", "storage01", "5"),
)
"""File, host, pane key: each pane on a host where it has something to show."""


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def take(out: Path, size: tuple[int, int]) -> list[Path]:
    """Grid, every host pane and the help, as SVG files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    source = DemoSource(frozen=True)
    app = ClusterTopApp(source, clock=source.clock)
    saved: list[Path] = []
    async with app.run_test(size=size) as pilot:
        while not app.grid.table.row_count:
            await pilot.pause(0.05)
        await _settle(pilot)
        saved.append(Path(app.save_screenshot("grid.svg", str(out))))
        for filename, host, key in SHOTS:
            app.go_to_host(host)
            await _settle(pilot)
            await pilot.press(key)
            await _settle(pilot)
            assert isinstance(app.screen, HostScreen)
            saved.append(Path(app.save_screenshot(filename, str(out))))
        await pilot.press("question_mark")
        await _settle(pilot)
        saved.append(Path(app.save_screenshot("help.svg", str(out))))
        await pilot.press("escape", "escape", "q")
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
