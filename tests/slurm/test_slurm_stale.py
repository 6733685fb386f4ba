"""A real job holding an idle GPU over SSH: stale in the pane and the users view; X cancels it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from clustertop.analysis.users import UserRow
from clustertop.ui.screens.users import UsersScreen
from clustertop.ui.slurm_pane import SLURM_PANE
from tests.fleet.fleet import Fleet
from tests.fleet.gpu_specs import H200, gpu, spec
from tests.fleet.simhost import SimHost
from tests.slurm.cluster import JOB_USER, SlurmCluster, wait_running
from tests.ui.helpers import widget_text
from tests.ui_actions.helpers import (
    audit_entries,
    confirmation,
    fleet_app,
    modal_open,
    open_host,
    stale_now,
    toast_with,
)
from tests.waiting import async_wait_for, wait_for


def _state(slurm: SlurmCluster, job: str) -> str:
    out = subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%T"], env=slurm.env, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip
    return out.stdout.strip()


def _hold(host: SimHost, slurm: SlurmCluster, job: str, pid: int) -> None:
    """The job's process on its GPU; every stand-in GPU idle (0 %)."""
    (index,) = slurm.job_gpus(job)
    gpus = [gpu(host.name, i, H200) for i in range(4)]
    host.set_gpu_spec(spec(gpus, [{"gpu": index, "pid": pid, "used_memory_mib": 500}]))


async def test_an_idle_gpu_job_is_stale_and_x_cancels_it(
    fleet: Fleet, slurm_host: SimHost, slurm: SlurmCluster, tmp_path: Path
) -> None:
    job = slurm.submit("--gres=gpu:1", "--job-name=idle-hold", wrap="exec sleep 300")
    (pid,) = wait_running(slurm, job)
    audit = tmp_path / "audit.jsonl"
    try:
        name = slurm_host.name
        _hold(slurm_host, slurm, job, pid)
        async with fleet_app(fleet, [name], audit, analysis=stale_now()) as (app, pilot):
            screen = await open_host(app, pilot, name)
            await async_wait_for(
                lambda: screen.check_action("show_pane", (SLURM_PANE,)), 30, what="a Slurm tab"
            )
            await pilot.press("9")
            table = screen.current_table

            def stale_row() -> bool:
                text = widget_text(table)
                return job in text and "idle-hold" in text and "stale" in text

            await async_wait_for(stale_row, 30, what="the job's row marked stale")
            assert JOB_USER in widget_text(table)
            await pilot.press("X")
            modal = await confirmation(app)
            assert "scancel 1 stale Slurm job?" in modal.text() and job in modal.text()
            await pilot.press("y")
            await toast_with(app, "scancel: done", f"Slurm job {job}")
            wait_for(lambda: _state(slurm, job) != "RUNNING", 30, 0.2, "the job cancelled")
        (outcome,) = audit_entries(audit)
        assert (outcome["target"]["kind"], outcome["target"]["job_id"]) == ("slurm-job", job)
        assert outcome["outcome"] == "done"
    finally:
        slurm.cancel(job)


async def test_the_users_view_counts_a_stale_job(
    fleet: Fleet, slurm_host: SimHost, slurm: SlurmCluster, tmp_path: Path
) -> None:
    job = slurm.submit("--gres=gpu:1", "--job-name=idle-user", wrap="exec sleep 300")
    (pid,) = wait_running(slurm, job)
    try:
        name = slurm_host.name
        _hold(slurm_host, slurm, job, pid)
        audit = tmp_path / "audit.jsonl"
        async with fleet_app(fleet, [name], audit, analysis=stale_now()) as (app, pilot):
            await async_wait_for(lambda: app.grid.table.row_count == 1, 30, what="the grid row")
            await pilot.press("u")
            await async_wait_for(lambda: isinstance(app.screen, UsersScreen), 30, what="users")
            users = app.screen
            assert isinstance(users, UsersScreen)

            def nobody_stale() -> bool:
                row = users.table.row_data(JOB_USER)
                return (
                    row is not None
                    and isinstance(row.target, UserRow)
                    and row.target.jobs_stale == 1
                )

            await async_wait_for(nobody_stale, 30, what="nobody's row with 1 stale job")
            # The Stale column counts stale containers and stale jobs: 1 on nobody's row.
            row = users.table.row_data(JOB_USER)
            assert row is not None and row.cells[5].plain == "1"
    finally:
        slurm.cancel(job)


async def test_readonly_offers_no_scancel(
    fleet: Fleet, slurm_host: SimHost, slurm: SlurmCluster, tmp_path: Path
) -> None:
    job = slurm.submit("--gres=gpu:1", "--job-name=ro-job", wrap="exec sleep 300")
    (pid,) = wait_running(slurm, job)
    audit = tmp_path / "audit.jsonl"
    try:
        name = slurm_host.name
        _hold(slurm_host, slurm, job, pid)
        async with fleet_app(fleet, [name], audit, analysis=stale_now(), readonly=True) as (
            app,
            pilot,
        ):
            screen = await open_host(app, pilot, name)
            await async_wait_for(
                lambda: screen.check_action("show_pane", (SLURM_PANE,)), 30, what="a Slurm tab"
            )
            await pilot.press("9")
            table = screen.current_table
            await async_wait_for(lambda: "stale" in widget_text(table), 30, what="a stale job")
            assert not screen.check_action("act", ("cancel",))
            assert not screen.check_action("cancel_stale", ())
            await pilot.press("T", "X")
            await pilot.pause()
            assert not modal_open(app)
        assert _state(slurm, job) == "RUNNING"
        assert not audit.exists()
    finally:
        slurm.cancel(job)
