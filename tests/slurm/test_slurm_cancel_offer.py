"""T (scancel) is offered only for a job the acting user may cancel; elsewhere T says why."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clustertop.actions import local_runner
from clustertop.actions.cancel_rights import CancelRights, parse_rights, read_rights, refusal
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.analysis.jobs import JobRow
from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.sources.local.source import LocalSource
from clustertop.ui.app import ClusterTopApp
from clustertop.ui.screens.confirm import ConfirmScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.slurm_pane import SLURM_PANE
from tests.slurm.cluster import JOB_USER, SlurmCluster, rights_known, wait_running
from tests.ui_actions.helpers import toast_with, toasts
from tests.waiting import async_wait_for

REFUSED = "only nobody, root or a Slurm operator may cancel it"


def _as_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every program the local runner starts runs as `daemon` (not root, not the job's user)."""
    wrapper = tmp_path / "sh"
    wrapper.write_text(
        '#!/bin/sh\nexec setpriv --reuid=daemon --regid=daemon --clear-groups /bin/sh "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setattr(local_runner, "SHELL", (str(wrapper), "-s"))


async def _open_job(app: ClusterTopApp, pilot: object, name: str) -> HostScreen:
    """The host screen on the Slurm pane, its cursor on the job named `name`."""
    await async_wait_for(lambda: app.grid.table.row_count == 1, 30, what="the grid row")
    await pilot.press("enter")  # type: ignore[attr-defined]
    screen = app.host_screen
    await async_wait_for(lambda: app.screen is screen, 30, what="the host screen")
    await async_wait_for(
        lambda: screen.check_action("show_pane", (SLURM_PANE,)), 30, what="a Slurm tab"
    )
    await pilot.press("9", "slash", *name, "enter")  # type: ignore[attr-defined]

    def on_job() -> bool:
        row = screen.current_table.selected()
        target = row.target if row is not None else None
        return isinstance(target, JobRow) and target.name == name and bool(target.start_time)

    await async_wait_for(on_job, 30, what=f"the cursor on job {name}")
    return screen


def _app(tmp_path: Path, *, readonly: bool = False) -> ClusterTopApp:
    source = LocalSource(0.5, docker_host=f"unix://{tmp_path / 'none.sock'}")
    config = Config(interval=0.5, audit_log=tmp_path / "audit.jsonl", readonly=readonly)
    return build_app(source, config)


async def test_a_job_of_another_user_is_not_offered_and_t_says_why(
    slurm_env: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slurm = slurm_env
    job = slurm.submit("--job-name=not-yours", wrap="exec sleep 300")
    wait_running(slurm, job)
    _as_daemon(tmp_path, monkeypatch)
    app = _app(tmp_path)
    try:
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            screen = await _open_job(app, pilot, "not-yours")
            await async_wait_for(lambda: rights_known(screen), 30, what="the cancel rights")
            assert not screen.check_action("act", ("cancel",))
            assert screen.check_action("cancel_refused", ())
            shown = screen.active_bindings["T"]  # what the footer shows for T
            assert (shown.binding.description, shown.enabled) == ("Why no scancel", True)
            await pilot.press("T")
            shown = await toast_with(app, f"job {job} belongs to {JOB_USER}", REFUSED)
            assert "you act as daemon" in shown
            assert not isinstance(app.screen, ConfirmScreen)
        assert not (tmp_path / "audit.jsonl").exists() or not (tmp_path / "audit.jsonl").read_text()
        assert slurm.job_pids(job)  # still running
    finally:
        slurm.cancel(job)


async def test_readonly_offers_no_scancel_at_all(slurm_env: SlurmCluster, tmp_path: Path) -> None:
    slurm = slurm_env
    job = slurm.submit("--job-name=look-only", wrap="exec sleep 300")
    wait_running(slurm, job)
    app = _app(tmp_path, readonly=True)
    try:
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            screen = await _open_job(app, pilot, "look-only")
            for action, parameters in (("act", ("cancel",)), ("cancel_refused", ()),
                                       ("cancel_stale", ())):  # fmt: skip
                assert not screen.check_action(action, parameters), action
            await pilot.press("T", "X")
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmScreen)
            assert not any("scancel" in text for text in toasts(app))
        assert slurm.job_pids(job)
    finally:
        slurm.cancel(job)


async def test_the_rights_program_on_the_real_slurm(
    slurm_env: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Root: an operator. daemon: no accounting database here, so known to be no operator."""
    root = await read_rights(LocalActionRunner(), "localhost")
    assert root == CancelRights("root", True, True, None)
    assert refusal(root, "42", JOB_USER) is None
    _as_daemon(tmp_path, monkeypatch)
    daemon = await read_rights(LocalActionRunner(), "localhost")
    assert daemon == CancelRights("daemon", False, True, "None")
    assert refusal(daemon, "42", "daemon") is None  # its own job
    assert refusal(daemon, "42", JOB_USER) == (
        f"job 42 belongs to {JOB_USER}: {REFUSED} (you act as daemon)"
    )
    # Actions through the host's sudo act as root (where sudo is there to run scancel).
    sudo = await read_rights(LocalActionRunner(sudo=True), "localhost")
    assert sudo is not None and sudo.root is (shutil.which("sudo") is not None)


def test_rights_lines_and_reasons() -> None:
    assert parse_rights(["noise", "CTRIGHTS 1000 1 Operator alice"]) == CancelRights(
        "alice", False, True, "Operator"
    )
    assert parse_rights(["CTRIGHTS 1000 1 ? alice"]) == CancelRights("alice", False, True, None)
    assert parse_rights(["CTRIGHTS garbage"]) is None
    assert parse_rights([]) is None
    operator = CancelRights("alice", False, True, "Operator")
    assert refusal(operator, "7", "bob") is None
    unknown = CancelRights("alice", False, True, None)  # sacctmgr failed: offered, as before
    assert refusal(unknown, "7", "bob") is None
    assert refusal(None, "7", "bob") is None
    missing = CancelRights("root", True, False, None)
    assert refusal(missing, "7", "bob") == "scancel: command not found on this host"
