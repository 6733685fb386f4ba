"""The users view: one row per person, exactly the analysis' user rows; Enter filters to them."""

from __future__ import annotations

from clustertop.analysis.users import user_rows
from clustertop.model import HostSnapshot
from clustertop.ui.screens.users import UsersScreen
from clustertop.util.units import human_bytes, percent
from tests.ui.helpers import cell_text, until, widget_text
from tests.views.helpers import SIZE, demo_app, grid_ready, open_host, open_view


def _has_something(snap: HostSnapshot, owner: str) -> bool:
    """What the grid's owner filter means, spelled out from the model."""
    mine = {c.id for c in snap.containers if c.owner == owner}
    return (
        any(p.owner == owner for p in snap.gpu_processes)
        or bool(mine)
        or any(p.user == owner or (p.container and p.container.id in mine) for p in snap.processes)
    )


async def test_rows_are_the_analysis_user_rows_of_the_demo() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "u", UsersScreen)
        snaps = app.live.store.all()
        assert app.live.analysis is not None
        expected = user_rows(snaps, {snap.name: app.live.analysis.stale(snap) for snap in snaps})
        table = view.table
        assert table.ordered_keys() == [row.owner for row in expected]
        for row in expected:
            shown = {spec.key: cell_text(table, row.owner, spec.key) for spec in table.specs}
            assert shown == {
                "owner": row.owner,
                "gpus": str(row.gpus),
                "gpumem": human_bytes(row.gpu_memory),
                "util": percent(row.mean_util),
                "running": str(row.containers_running),
                "stale": str(row.containers_stale),
                "procs": str(row.processes),
                "nhosts": str(len(row.hosts)),
                "hosts": ", ".join(row.hosts),
            }
        # What a reader of the demo sees at the top: the heaviest user and where they run.
        assert cell_text(table, "chen", "gpus") == "12"
        assert cell_text(table, "chen", "hosts") == "dgx-b, gpu09, gpu13"
        assert "People 10" in widget_text(view.query_one(".view-summary"))


async def test_enter_filters_grid_and_host_panes_then_escape_clears() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        view = await open_view(pilot, "u", UsersScreen)
        assert view.table.go_to("alice")
        await pilot.press("enter")
        await until(lambda: app.screen is app.grid, "back on the grid")
        snaps = app.live.store.all()
        alice_hosts = [snap.name for snap in snaps if _has_something(snap, "alice")]
        assert alice_hosts and len(alice_hosts) < len(snaps)
        await until(lambda: app.grid.table.ordered_keys() == alice_hosts, "alice's hosts")
        assert app.grid.sub_title.endswith("owner: alice")
        summary = widget_text(app.grid.query_one("#summary"))
        assert f"showing {len(alice_hosts)} of {len(snaps)}" in summary

        screen = await open_host(pilot, app, alice_hosts[0])
        assert screen.sub_title.endswith("owner: alice")
        snap = app.live.store.get(alice_hosts[0])
        assert snap is not None
        for pane, rows in (("2", snap.gpu_processes), ("3", snap.containers)):
            await pilot.press(pane)
            table = screen.current_table
            mine = [row for row in rows if row.owner == "alice"]
            count = len(mine)
            await until(lambda t=table, n=count: t.row_count == n, f"pane {pane} filtered")
            assert {cell_text(table, key, "owner") for key in table.ordered_keys()} <= {"alice"}
        assert len(rows) > len(mine), "the host also has other people's containers"

        await pilot.press("escape")
        await until(lambda: app.screen is app.grid, "grid again")
        await pilot.press("escape")
        await until(lambda: app.grid.table.row_count == len(snaps), "everyone again")
        assert "owner" not in app.grid.sub_title
        screen = await open_host(pilot, app, alice_hosts[0])
        await pilot.press("3")
        await until(lambda: screen.current_table.row_count == len(rows), "all containers again")


async def test_owner_option_starts_filtered() -> None:
    app, _ = demo_app(history=False, owner="bob")
    async with app.run_test(size=SIZE):
        await until(lambda: app.grid.table.row_count > 0, "bob's hosts")
        snaps = app.live.store.all()
        bob_hosts = [snap.name for snap in snaps if _has_something(snap, "bob")]
        await until(lambda: app.grid.table.ordered_keys() == bob_hosts, "only bob's hosts")
        assert app.grid.sub_title.endswith("owner: bob")


async def test_escape_on_the_users_view_goes_back_without_filtering() -> None:
    app, _ = demo_app(history=False)
    async with app.run_test(size=SIZE) as pilot:
        await grid_ready(app)
        await open_view(pilot, "u", UsersScreen)
        await pilot.press("escape")
        await until(lambda: app.screen is app.grid, "grid")
        assert app.grid.table.row_count == len(app.host_names())
        assert "owner" not in app.grid.sub_title


def test_the_stale_column_adds_stale_containers_jobs_and_pods() -> None:
    from clustertop.analysis.users import UserRow
    from clustertop.ui.screens.users import USER_COLUMNS, user_row

    person = UserRow("ml", 2, 0, 0.0, 1, 1, 2, ("gpu01",), jobs=2, jobs_stale=1, pods_stale=2)
    cells = dict(zip((spec.key for spec in USER_COLUMNS), user_row(person).cells, strict=True))
    assert cells["stale"].plain == "4"  # one container, one Slurm job, two pods
