"""The action controller: targets captured at keypress, confirmed, run, and told back per target."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from textual.app import App
from textual.notifications import SeverityLevel

from clustertop.actions.audit import AuditedRunner, AuditError
from clustertop.actions.cancel_rights import RightsCache, refusal
from clustertop.actions.job_target import JobTarget
from clustertop.actions.model import (
    ActionResult,
    ActionRunner,
    ContainerTarget,
    Outcome,
    ProcessTarget,
    Target,
    Verb,
)
from clustertop.analysis.jobs import JobRow, slurm_jobs
from clustertop.model import Container, GpuProcess, Process
from clustertop.ui.context import LiveContext
from clustertop.ui.screens.confirm import ConfirmScreen, verb_label
from clustertop.ui.screens.logs import LogsScreen
from clustertop.util.textsafe import printable

_Row = TypeVar("_Row")

_SEVERITY: dict[Outcome, SeverityLevel] = {
    Outcome.DONE: "information",
    Outcome.CHANGED: "warning",
    Outcome.GONE: "warning",
    Outcome.FAILED: "error",
}
_SECONDS_SHOWN = {Outcome.DONE: 6.0}
"""How long a result stays on screen; anything but done stays longer (_LONG_SECONDS), to be read."""
_LONG_SECONDS = 20.0
QUIT_MARGIN = 5.0
"""Seconds beyond an action's own timeout that quitting waits for it (its audit line)."""


def capture(host: str, rows: Iterable[object]) -> tuple[list[Target], int]:
    """Identities of the model objects of `rows`, and how many could not be captured.

    A process whose start time is unknown cannot be re-checked on the host, so it is left out
    (and counted); one process shown on two GPUs is one target.
    """
    targets: dict[object, Target] = {}
    skipped = 0
    for row in rows:
        if isinstance(row, Container):
            targets.setdefault(row.id, ContainerTarget.of(host, row))
        elif isinstance(row, JobRow):
            job = JobTarget.of(host, row)
            if job is None:
                skipped += 1
            else:
                targets.setdefault(("job", job.job_id), job)
        elif isinstance(row, (Process, GpuProcess)):
            target = ProcessTarget.of(host, row)
            if target is None:
                skipped += 1
            else:
                targets.setdefault((target.pid, target.start_time), target)
    return list(targets.values()), skipped


def short_name(target: Target) -> str:
    """'h1: container alice-job' / 'h1: PID 4242 python train.py' (host text made printable)."""
    if isinstance(target, ContainerTarget):
        what = f"container {target.name or target.id[:12]}"
    elif isinstance(target, JobTarget):
        what = f"Slurm job {target.job_id} {target.name or ''}".rstrip()
    else:
        what = f"PID {target.pid} {target.command}"
    return printable(f"{target.host}: {what}")


class ActionController:
    """Opens the confirmation for captured targets, runs the confirmed verb, notifies results."""

    def __init__(
        self, app: App[Any], runner: ActionRunner | None, live: LiveContext, *, readonly: bool
    ) -> None:
        self.app = app
        """Where modals and notifications go."""
        self.runner = runner
        """What acts on hosts; None: actions unavailable."""
        self.live = live
        """Snapshots, clock and the stale provider."""
        self.readonly = readonly
        """True: no action ever runs and no action key is offered."""
        self.rights = RightsCache(runner) if runner is not None else None
        """Who may scancel on each host (read in the background, kept a while)."""

    @property
    def available(self) -> bool:
        """True when actions may be offered at all."""
        return self.runner is not None and not self.readonly

    def cancel_refusal(
        self, host: str, row: object, on_known: Callable[[], None] | None = None
    ) -> str | None:
        """Why the acting user may not scancel the job `row` on `host`; None: offered (also
        while the host's rights are being read, or could not be: scancel's refusal is shown)."""
        if not isinstance(row, JobRow) or self.rights is None:
            return None
        return refusal(self.rights.get(host, on_known), row.id, row.user)

    def _cancellable(self, host: str, rows: Sequence[_Row]) -> list[_Row]:
        """The job rows the acting user may cancel; says why the first other one is left out."""
        reasons = [(row, self.cancel_refusal(host, row)) for row in rows]
        refused = [why for _, why in reasons if why is not None]
        if refused:
            more = f" ({len(refused)} job(s) left out)" if len(refused) > 1 else ""
            self.app.notify(printable(refused[0]) + more, title="scancel", severity="warning",
                            markup=False)  # fmt: skip
        return [row for row, why in reasons if why is None]

    def check_audit(self) -> None:
        """Say at start-up when the audit log cannot be written (every action would be refused)."""
        if not self.available or not isinstance(self.runner, AuditedRunner):
            return
        try:
            self.runner.audit.check()
        except AuditError as exc:
            self.app.notify(
                f"{printable(exc)}: actions will be refused until it is writable",
                title="Audit log",
                severity="error",
                timeout=30,
                markup=False,
            )

    def act(
        self,
        verb: Verb,
        host: str,
        rows: Sequence[object],
        *,
        what: str = "",
        on_confirmed: Callable[[], None] | None = None,
    ) -> bool:
        """Capture the identities of `rows` now and ask to confirm; False when nothing to ask."""
        if not self.available:
            return False
        if verb is Verb.CANCEL:
            rows = self._cancellable(host, rows)
        targets, skipped = capture(host, rows)
        if skipped:
            self.app.notify(
                f"{skipped} process(es) left out: start time unknown, so the PID cannot be checked",
                severity="warning",
                markup=False,
            )
        return self.confirm(verb, targets, what=what, on_confirmed=on_confirmed)

    def confirm(
        self,
        verb: Verb,
        targets: Sequence[Target],
        *,
        what: str = "",
        on_confirmed: Callable[[], None] | None = None,
    ) -> bool:
        """Ask about exactly these identities; on yes, run the chosen verb on them."""
        if not self.available or not targets:
            return False
        frozen = tuple(targets)

        def answered(choice: Verb | None) -> None:
            if choice is None:
                return
            if on_confirmed is not None:
                on_confirmed()
            self.app.run_worker(self.run(choice, frozen), group="actions")

        modal = ConfirmScreen(verb, frozen, self.live.clock(), what=what)
        self.app.push_screen(modal, callback=answered)
        return True

    async def run(self, verb: Verb, targets: Sequence[Target]) -> list[ActionResult]:
        """Run `verb` on `targets` (the host re-checks each identity); one notification each."""
        if self.runner is None or self.readonly:
            return []
        # `docker stop` may take its whole grace period: say at once that something is under way.
        hosts = ", ".join(dict.fromkeys(printable(target.host) for target in targets))
        count = f"{len(targets)} target" + ("s" if len(targets) != 1 else "")
        self.app.notify(f"{count} on {hosts}…", title=f"{verb_label(verb)}: sent", markup=False)
        results = await self.runner.run_all(verb, targets)
        for result in results:
            self.notify_result(result)
        return results

    async def finish(self, *, visible: bool = True) -> int:
        """Send nothing new; wait for actions under way (bounded by their own timeout).

        Returns how many were still running when the wait ended (0: all have their result and
        audit line). `visible`: say so on screen while waiting ("finishing 1 action…").
        """
        runner = self.runner
        if runner is None:
            return 0
        runner.close()
        count = len(runner.in_flight)
        if not count:
            return 0
        if visible:
            self.app.notify(
                f"finishing {count} action{'s' if count != 1 else ''}…",
                title="Quitting",
                timeout=runner.timeout + QUIT_MARGIN,
                markup=False,
            )
        return await runner.settle(runner.timeout + QUIT_MARGIN)

    def notify_result(self, result: ActionResult) -> None:
        """One toast per target: done, failed with the host's words, changed or gone."""
        message = short_name(result.target)
        if result.detail:
            message += "\n" + printable(result.detail)
        self.app.notify(
            message,
            title=f"{verb_label(result.verb)}: {result.outcome.value}",
            severity=_SEVERITY[result.outcome],
            timeout=_SECONDS_SHOWN.get(result.outcome, _LONG_SECONDS),
            markup=False,
        )

    def stale_containers(self, hosts: Iterable[str]) -> list[Target]:
        """Running containers the analysis calls stale on `hosts`, captured now."""
        targets: list[Target] = []
        for name in hosts:
            snap = self.live.store.get(name)
            if snap is None or not snap.is_up:
                continue
            stale = self.live.stale(snap)
            targets += [
                ContainerTarget.of(name, ctr)
                for ctr in snap.containers
                if ctr.id in stale and ctr.state == "running"
            ]
        return targets

    def stop_stale(self, hosts: Iterable[str]) -> bool:
        """Offer to stop every stale container on `hosts`; says so when there is none."""
        if not self.available:
            return False
        targets = self.stale_containers(hosts)
        if not targets:
            self.app.notify("No stale containers to stop.", markup=False)
            return False
        return self.confirm(Verb.STOP, targets, what="stale container")

    def stale_jobs(self, hosts: Iterable[str]) -> list[Target]:
        """Slurm jobs the analysis calls stale on `hosts`, captured now (identity known)."""
        targets: list[Target] = []
        for name in hosts:
            snap = self.live.store.get(name)
            if snap is None or not snap.is_up:
                continue
            stale = self.live.stale_jobs(snap)
            jobs = [job for job in slurm_jobs(snap) if job.id in stale]
            found = (JobTarget.of(name, job) for job in self._cancellable(name, jobs))
            targets += [target for target in found if target is not None]
        return targets

    def cancel_stale(self, hosts: Iterable[str]) -> bool:
        """Offer to scancel every stale Slurm job on `hosts`; says so when there is none."""
        if not self.available:
            return False
        targets = self.stale_jobs(hosts)
        if not targets:
            self.app.notify("No stale Slurm jobs to cancel.", markup=False)
            return False
        return self.confirm(Verb.CANCEL, targets, what="stale Slurm job")

    def show_logs(self, host: str, row: object) -> bool:
        """Open the live log of the container `row`; False when there is none to show."""
        if not self.available or not isinstance(row, Container) or self.runner is None:
            return False
        target = ContainerTarget.of(host, row)
        stream = self.runner.logs(target)
        if stream is None:
            self.app.notify("This source cannot show container logs.", markup=False)
            return False
        self.app.push_screen(LogsScreen(target, stream))
        return True
