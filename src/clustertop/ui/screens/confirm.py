"""The confirmation modal: every target's full identity, Cancel focused, y / n / Escape keys."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from clustertop.actions.job_target import JobTarget
from clustertop.actions.model import ContainerTarget, ProcessTarget, Target, Verb
from clustertop.util.textsafe import printable
from clustertop.util.units import duration

VERB_LABELS = {
    Verb.STOP: "Stop",
    Verb.KILL: "Kill",
    Verb.RESTART: "Restart",
    Verb.REMOVE: "Remove",
    Verb.FORCE_REMOVE: "Force remove",
    Verb.TERM: "SIGTERM",
    Verb.SIGKILL: "SIGKILL",
    Verb.CANCEL: "scancel",
}
"""Button and notification wording of each verb."""
FORCE_NOTE = "A running container is not removed; Force remove (f) stops and removes it."
"""Said when Force remove is offered."""
_REMOVABLE_STATES = frozenset({"exited", "dead", "created"})
"""States `docker rm` takes without force."""


def verb_label(verb: Verb) -> str:
    """'Stop', 'SIGTERM'..."""
    return VERB_LABELS[verb]


def question(verb: Verb, targets: Sequence[Target], what: str = "") -> str:
    """'Stop 2 containers?', 'Send SIGTERM to 1 process?' (`what` overrides the noun)."""
    count = len(targets)
    if what:
        noun = what
    elif all(isinstance(t, JobTarget) for t in targets):
        noun = "Slurm job"
    else:
        noun = "container" if all(isinstance(t, ContainerTarget) for t in targets) else "process"
    plural = noun if count == 1 else noun + ("es" if noun.endswith("s") else "s")
    if verb in (Verb.TERM, Verb.SIGKILL):
        return f"Send {verb_label(verb)} to {count} {plural}?"
    return f"{verb_label(verb)} {count} {plural}?"


def needs_force(verb: Verb, targets: Sequence[Target]) -> bool:
    """True when Remove would refuse a target that is still running: force is offered then."""
    return verb is Verb.REMOVE and any(
        isinstance(t, ContainerTarget) and t.state not in _REMOVABLE_STATES for t in targets
    )


def started_text(start: float, now: float) -> str:
    """'2025-10-09 08:53:20 UTC (3h05m ago)': local time and age of a process start."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(start))
    return f"{stamp} ({duration(now - start)} ago)"


def target_text(target: Target, now: float) -> Text:
    """Every field of a target's identity, host text literal (never markup, no control bytes)."""
    text = Text()
    text.append(printable(target.host), "bold")
    if isinstance(target, JobTarget):
        _job_fields(text, target)
    elif isinstance(target, ContainerTarget):
        _field(text, "  container ", target.name, "bold")
        _field(text, "\n  ID        ", target.id)
        _field(text, "\n  image     ", target.image)
        _field(text, "\n  state     ", target.state)
        _field(text, "\n  owner     ", target.owner or "?")
        if target.engine != "docker":  # Docker's targets read as they always did
            _field(text, "\n  engine    ", target.engine)
    else:
        _process_fields(text, target, now)
    return text


def _process_fields(text: Text, target: ProcessTarget, now: float) -> None:
    _field(text, "  PID ", str(target.pid), "bold")
    _field(text, "\n  user      ", target.user or "?")
    _field(text, "\n  owner     ", target.owner or "?")
    if target.container:
        _field(text, "\n  container ", target.container)
    _field(text, "\n  started   ", started_text(target.start_time, now))
    _field(text, "\n  command   ", target.command or "?")


def _job_fields(text: Text, target: JobTarget) -> None:
    _field(text, "  Slurm job ", target.job_id, "bold")
    _field(text, "\n  name      ", target.name or "?")
    _field(text, "\n  user      ", target.user)
    _field(text, "\n  partition ", target.partition or "?")
    _field(text, "\n  GPUs      ", ",".join(map(str, target.gpus)) or "-")
    _field(text, "\n  started   ", target.start_time)


def _field(text: Text, label: str, value: str, style: str = "") -> None:
    text.append(label, "dim")
    text.append(printable(value), style)


class ConfirmScreen(ModalScreen[Verb | None]):
    """Asks before acting; dismissed with the verb to run, or None (cancelled).

    Focus starts on Cancel, so a stray Enter never acts. `y` confirms the verb asked for, `f`
    force-removes (offered only when a target to remove still runs), `n` and Escape cancel.
    """

    AUTO_FOCUS = "#confirm-cancel"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Confirm", id="confirm.yes"),
        Binding("f", "force", "Force remove", id="confirm.force"),
        Binding("n,escape", "cancel", "Cancel", id="confirm.no"),
        Binding("left", "app.focus_previous", show=False, id="confirm.left"),
        Binding("right", "app.focus_next", show=False, id="confirm.right"),
    ]

    def __init__(
        self, verb: Verb, targets: Sequence[Target], now: float, *, what: str = ""
    ) -> None:
        super().__init__()
        self.verb = verb
        """The verb `y` confirms."""
        self.targets = tuple(targets)
        """Identities captured when the key was pressed, shown as they will be checked."""
        self.now = now
        """Current time, for process ages."""
        self.what = what
        """Noun of the question ('stale container'); empty: container or process."""
        self.force = needs_force(verb, targets)
        """True when Force remove is offered."""
        self.title_text = question(verb, self.targets, what)
        """The question asked."""
        self.target_texts = [target_text(target, now) for target in self.targets]
        """One block of text per target."""

    def compose(self) -> ComposeResult:
        """Question, one block per target, a note, the buttons and the keys."""
        with Vertical(id="confirm-body"):
            yield Static(Text(self.title_text, style="bold"), id="confirm-title")
            with VerticalScroll(id="confirm-targets"):
                for block in self.target_texts:
                    yield Static(block, classes="confirm-target")
            if self.force:
                yield Static(Text(FORCE_NOTE, style="italic"), id="confirm-note")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="confirm-cancel")
                yield Button(verb_label(self.verb), id="confirm-yes", variant="error")
                if self.force:
                    yield Button("Force remove", id="confirm-force", variant="error")
            keys = "y confirms · n or Escape cancels" + (" · f force-removes" if self.force else "")
            yield Static(Text(keys, style="dim"), id="confirm-hint")

    def text(self) -> str:
        """Everything the modal says (question, targets, note), as plain text."""
        parts = [self.title_text, *(block.plain for block in self.target_texts)]
        return "\n".join([*parts, FORCE_NOTE] if self.force else parts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`f` only when force is offered."""
        return self.force if action == "force" else True

    def action_confirm(self) -> None:
        """Run the verb asked for."""
        self.dismiss(self.verb)

    def action_force(self) -> None:
        """Remove with force (running containers are stopped first)."""
        self.dismiss(Verb.FORCE_REMOVE)

    def action_cancel(self) -> None:
        """Do nothing."""
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice = {"confirm-yes": self.verb, "confirm-force": Verb.FORCE_REMOVE}
        self.dismiss(choice.get(event.button.id or ""))
