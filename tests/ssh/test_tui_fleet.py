"""The TUI over the loopback fleet: every host live, staleness visible, a host that goes and returns."""

from __future__ import annotations

from pathlib import Path

from clustertop.ui.widgets.table_sync import KeyedTable
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import gpu, spec
from tests.fleet.simhost import SimHost
from tests.ui.helpers import cell_text, until
from tests.ui_actions.helpers import fleet_app


def _state(table: KeyedTable, host: str) -> str:
    return cell_text(table, host, "state")


def _up(table: KeyedTable, host: str) -> bool:
    # "up", or "up (2s ago)" when a busy machine delays its frames a little: still up.
    return _state(table, host).split(" (")[0] == "up"


async def test_grid_shows_hosts_live_and_a_killed_sshd_changes_only_its_row(
    fleet: Fleet, spare_host: SimHost, tmp_path: Path
) -> None:
    hosts = ["h2", "spare"]
    async with fleet_app(fleet, hosts, tmp_path / "audit.jsonl") as (app, _pilot):
        table = app.grid.table
        await until(lambda: table.row_count == 2, "both rows")
        # spare has no Docker daemon: its row says so instead of a plain "up".
        await until(lambda: _up(table, "h2"), "h2 up")
        await until(lambda: "docker" in _state(table, "spare"), "spare up, its Docker error shown")
        before = app.live.store.get("h2")
        await until(lambda: app.live.store.get("h2") is not before, "h2 updating live")
        spare_host.stop_sshd()
        await until(lambda: _state(table, "spare").startswith(("unreachable", "error")), "down")
        assert _up(table, "h2"), "only the stopped host's row changed"
        spare_host.start_sshd()
        await until(lambda: "docker" in _state(table, "spare"), "back up without a restart")


async def test_a_hung_section_shows_as_stale_in_its_row(clean_fleet: Fleet, tmp_path: Path) -> None:
    async with fleet_app(clean_fleet, ["h1", "h3"], tmp_path / "audit.jsonl") as (app, _pilot):
        table = app.grid.table
        await until(lambda: table.row_count == 2 and _up(table, "h1"), "h1 up")
        await until(lambda: cell_text(table, "h1", "gpus") != "-", "h1 GPUs shown")
        clean_fleet["h1"].set_gpu_spec(spec([gpu("h1", 0)], mode="hang"))
        await until(lambda: "gpu" in _state(table, "h1"), "the GPU part marked in h1's row")
        assert "!" in cell_text(table, "h1", "host")
        assert _up(table, "h3")
        clean_fleet["h1"].reset_gpu_spec()
