"""Action keys of the host screen, and which pane each one applies to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from textual.binding import Binding, BindingType

from clustertop.actions.model import Verb

CONTAINERS_PANE = "containers"
"""Pane id whose rows are containers."""
SLURM_JOBS_PANE = "slurm-jobs"
"""Pane id whose rows are Slurm jobs (ui/slurm_pane.py)."""
PANE_VERBS: Mapping[str, frozenset[Verb]] = MappingProxyType(
    {
        CONTAINERS_PANE: frozenset({Verb.STOP, Verb.KILL, Verb.RESTART, Verb.REMOVE}),
        "processes": frozenset({Verb.TERM, Verb.SIGKILL}),
        "gpu-processes": frozenset({Verb.TERM, Verb.SIGKILL}),
        SLURM_JOBS_PANE: frozenset({Verb.CANCEL}),
    }
)
"""The verbs each pane's rows take; a pane not listed takes none (and has no marks)."""

HOST_ACTION_BINDINGS: list[BindingType] = [
    # The same key means the same kind of thing per pane: T ends gently, K ends hard.
    Binding("T", "act('stop')", "Stop", id="host.action.stop"),
    Binding("K", "act('kill')", "Kill", id="host.action.kill"),
    Binding("R", "act('restart')", "Restart", id="host.action.restart"),
    Binding("D", "act('remove')", "Remove", id="host.action.remove"),
    Binding("T", "act('term')", "SIGTERM", id="host.action.term"),
    Binding("K", "act('sigkill')", "SIGKILL", id="host.action.sigkill"),
    Binding("T", "act('cancel')", "scancel", id="host.action.cancel"),
    # Where the acting user may not cancel the job under the cursor, T says why instead.
    Binding("T", "cancel_refused", "Why no scancel", id="host.action.cancel_refused"),
    Binding("l", "logs", "Logs", id="host.action.logs"),
    Binding("space", "toggle_mark", "Mark", id="host.action.mark"),
    Binding("X", "stop_stale", "Stop stale", id="host.action.stop_stale"),
    Binding("X", "cancel_stale", "Cancel stale jobs", id="host.action.cancel_stale"),
]
"""Action keys; each is offered (and shown) only where check_action allows it."""
HOST_ACTIONS = frozenset(
    {"act", "logs", "toggle_mark", "stop_stale", "cancel_stale", "cancel_refused"}
)
"""Action names of HOST_ACTION_BINDINGS."""


def applies(pane: str, action: str, parameters: tuple[object, ...]) -> bool:
    """True when `action` makes sense on rows of `pane` (X applies to the whole host)."""
    if action == "act":
        verb = str(parameters[0]) if parameters else ""
        return verb in {v.value for v in PANE_VERBS.get(pane, ())}
    if action == "logs":
        return pane == CONTAINERS_PANE
    if action == "toggle_mark":
        return pane in PANE_VERBS
    if action in {"cancel_stale", "cancel_refused"}:
        return pane == SLURM_JOBS_PANE
    return action == "stop_stale" and pane != SLURM_JOBS_PANE


def cancel_offered(
    action: str, parameters: tuple[object, ...], refusal: Callable[[], str | None]
) -> bool:
    """Where `applies`: T scancels only a job the acting user may cancel, else says why."""
    if action == "cancel_refused":
        return refusal() is not None
    if action == "act" and parameters == (Verb.CANCEL.value,):
        return refusal() is None
    return True
