"""The Slurm jobs pane and scancel on a real Slurm: what the user sees, what the host does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clustertop.actions import local_runner
from clustertop.actions.audit import AuditedRunner, AuditLog
from clustertop.actions.job_target import JobTarget
from clustertop.actions.local_runner import LocalActionRunner
from clustertop.actions.model import Outcome, Verb
from clustertop.analysis.jobs import JobRow
from clustertop.cli.launch import build_app
from clustertop.config.settings import Config
from clustertop.sources.local.source import LocalSource
from clustertop.ui.slurm_pane import SLURM_PANE
from tests.slurm.cluster import JOB_USER, SlurmCluster, rights_known, wait_running
from tests.ui.helpers import widget_text
from tests.ui_actions.helpers import audit_entries, confirmation, toast_with
from tests.waiting import async_wait_for, wait_for

BUSY = "exec python3 -c 'while True: pass'"


def _squeue(slurm: SlurmCluster, job: str) -> str:
    out = subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%u|%S|%T"], env=slurm.env, capture_output=True,
        text=True, timeout=30, check=False,
    )  # fmt: skip
    return out.stdout.strip()


def _gpu_jobs(slurm: SlurmCluster) -> tuple[str, str]:
    """A 1-GPU job (takes GPU 0), then a busy 2-GPU job: it gets two others (1 and 2)."""
    first = slurm.submit("--gres=gpu:1", "--job-name=holder", wrap="exec sleep 300")
    wait_running(slurm, first)
    second = slurm.submit("--gres=gpu:2", "--mem=200M", "--job-name=train-run", wrap=BUSY)
    wait_running(slurm, second, command="python3")
    return first, second


async def test_the_jobs_pane_shows_a_real_job_and_scancel_cancels_it(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    slurm = slurm_env
    first, second = _gpu_jobs(slurm)
    started = _squeue(slurm, second).split("|")[1]
    gpus = slurm.job_gpus(second)  # (1, 2), unless an earlier test's job still holds one
    assert len(gpus) == 2
    audit = tmp_path / "audit.jsonl"
    source = LocalSource(0.5, docker_host=f"unix://{tmp_path / 'none.sock'}")
    app = build_app(source, Config(interval=0.5, audit_log=audit))
    try:
        async with app.run_test(size=(160, 48), notifications=True) as pilot:
            await async_wait_for(lambda: app.grid.table.row_count == 1, 30, what="the grid row")
            await pilot.press("enter")
            screen = app.host_screen
            await async_wait_for(lambda: app.screen is screen, 30, what="the host screen")
            await async_wait_for(
                lambda: screen.check_action("show_pane", (SLURM_PANE,)), 30, what="a Slurm tab"
            )
            await pilot.press("9", "slash", *"train-run", "enter")
            table = screen.current_table
            assert screen.current_pane.id == SLURM_PANE

            def row() -> JobRow | None:
                chosen = table.selected()
                target = chosen.target if chosen is not None else None
                if not isinstance(target, JobRow) or target.start_time is None:
                    return None
                return target if table.row_count == 1 else None

            job = await async_wait_for(row, 30, what="the job's row, its start time known")
            await async_wait_for(lambda: rights_known(screen), 30, what="the cancel rights")
            assert screen.check_action("act", ("cancel",))  # root may cancel any job
            assert not screen.check_action("cancel_refused", ())
            assert screen.active_bindings["T"].binding.description == "scancel"  # the footer's T
            assert job is not None
            assert (job.id, job.user, job.name, job.partition, job.gpus, job.state) == (
                second, JOB_USER, "train-run", "debug", gpus, "RUNNING")  # fmt: skip
            assert job.start_time == started
            shown = widget_text(table)
            shown_gpus = ",".join(map(str, gpus))
            for text in (second, JOB_USER, "train-run", "debug", shown_gpus, "RUNNING"):
                assert text in shown
            await pilot.press("T")
            modal = await confirmation(app)
            assert "scancel 1 Slurm job?" in modal.text() and second in modal.text()
            await pilot.press("y")
            await toast_with(app, "scancel: done", f"Slurm job {second}")
        wait_for(lambda: "RUNNING" not in _squeue(slurm, second), 30, 0.2, "the job cancelled")
        assert "RUNNING" in _squeue(slurm, first)  # only the job confirmed
        (intent,) = audit_entries(audit, "intent")
        (outcome,) = audit_entries(audit)
        identity = {
            "kind": "slurm-job", "job_id": second, "user": JOB_USER, "start_time": started,
            "name": "train-run", "partition": "debug", "gpus": list(gpus),
        }  # fmt: skip
        assert intent["action"] == outcome["action"] == "cancel"
        assert intent["target"] == outcome["target"] == identity
        assert (outcome["outcome"], outcome["detail"]) == ("done", f"scancel sent to job {second}")
    finally:
        slurm.cancel(first)
        slurm.cancel(second)


async def test_a_changed_identity_is_refused_and_an_ended_job_is_gone(
    slurm_env: SlurmCluster, tmp_path: Path
) -> None:
    slurm = slurm_env
    job = slurm.submit("--job-name=keep-me", wrap="exec sleep 300")
    wait_running(slurm, job)
    audit = tmp_path / "audit.jsonl"
    runner = AuditedRunner(LocalActionRunner(), AuditLog(audit))
    try:
        user, started, _ = _squeue(slurm, job).split("|")
        other_start = JobTarget("localhost", job, user, "2001-01-01T00:00:00")
        result = await runner.act(Verb.CANCEL, other_start)
        assert result.outcome is Outcome.CHANGED, result.detail
        assert f"now started at {started}, not 2001-01-01T00:00:00" in result.detail
        other_user = JobTarget("localhost", job, "root", started)
        result = await runner.act(Verb.CANCEL, other_user)
        assert result.outcome is Outcome.CHANGED, result.detail
        assert f"now belongs to {JOB_USER}, not root" in result.detail
        assert "RUNNING" in _squeue(slurm, job)  # nothing was done
        slurm.cancel(job)
        wait_for(lambda: "RUNNING" not in _squeue(slurm, job), 30, 0.2, "the job ended")
        result = await runner.act(Verb.CANCEL, JobTarget("localhost", job, user, started))
        assert result.outcome is Outcome.GONE, result.detail
        never = JobTarget("localhost", "987654", user, started)
        assert (await runner.act(Verb.CANCEL, never)).outcome is Outcome.GONE
    finally:
        slurm.cancel(job)
    outcomes = [entry["outcome"] for entry in audit_entries(audit)]
    assert outcomes == ["changed", "changed", "gone", "gone"]
    assert len(audit_entries(audit, "intent")) == 4


async def test_the_host_refusal_is_shown(
    slurm_env: SlurmCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user who is neither the job's user nor root: scancel refuses, its words come back."""
    slurm = slurm_env
    job = slurm.submit("--job-name=not-yours", wrap="exec sleep 300")
    wait_running(slurm, job)
    try:
        user, started, _ = _squeue(slurm, job).split("|")
        # Run as `daemon` (not the job's user, not a Slurm operator).
        wrapper = tmp_path / "sh"
        wrapper.write_text(
            '#!/bin/sh\nexec setpriv --reuid=daemon --regid=daemon --clear-groups /bin/sh "$@"\n'
        )
        wrapper.chmod(0o755)
        monkeypatch.setattr(local_runner, "SHELL", (str(wrapper), "-s"))
        result = await LocalActionRunner().run(
            Verb.CANCEL, JobTarget("localhost", job, user, started)
        )
        assert result.outcome is Outcome.FAILED
        assert "Access/permission denied" in result.detail
        assert "RUNNING" in _squeue(slurm, job)
    finally:
        slurm.cancel(job)
