"""The help modal: every key of the screen underneath, generated from its active bindings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


@dataclass(frozen=True, slots=True)
class KeyHelp:
    """One line of help."""

    keys: str
    """Key(s) as displayed, e.g. 'j / down'."""
    description: str
    """What they do."""
    binding_id: str | None = None
    """The id to remap the key with in the config's [keys] table."""


def key_help(app: App[Any], bindings: Mapping[str, ActiveBinding]) -> list[KeyHelp]:
    """Keys grouped by action for every binding with a description: screen, widgets, then app."""
    by_action: dict[tuple[int, str], tuple[list[str], str, str | None]] = {}
    for active in sorted(bindings.values(), key=_order):
        binding = active.binding
        if not binding.description or binding.system:
            continue
        slot = (id(active.node), binding.action)
        keys, _, _ = by_action.setdefault(slot, ([], binding.description, binding.id))
        keys.append(app.get_key_display(binding))
    return [KeyHelp(" / ".join(keys), text, ident) for keys, text, ident in by_action.values()]


def _order(active: ActiveBinding) -> tuple[int, int]:
    """Screen keys, then widget keys, then app keys; each as declared, subclasses first."""
    node = active.node
    rank = 0 if isinstance(node, Screen) else 2 if isinstance(node, App) else 1
    own = [vars(cls).get("BINDINGS", []) for cls in type(node).__mro__]  # most derived first
    declared = [binding.id for bindings in own for binding in Binding.make_bindings(bindings)]
    binding_id = active.binding.id
    return rank, declared.index(binding_id) if binding_id in declared else len(declared)


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen it was opened from; Escape, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]

    def __init__(self, title: str, lines: list[KeyHelp]) -> None:
        super().__init__()
        self.help_title = title
        """Name of the screen the keys belong to."""
        self.lines = lines
        """Key lines shown."""

    def compose(self) -> ComposeResult:
        """Title, one line per key, and how to close."""
        width = max((len(line.keys) for line in self.lines), default=0)
        said = max((len(line.description) for line in self.lines), default=0)
        keys = Text()
        for line in self.lines:
            keys.append(f"{line.keys:<{width}}", "bold").append(f"  {line.description:<{said}}")
            keys.append(f"  {line.binding_id or ''}\n", "dim")
        keys.rstrip()
        with Vertical(id="help-body"):
            yield Static(Text(f"Keys: {self.help_title}", style="bold"), id="help-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(keys, id="help-keys")
            hint = "Escape, ? or q closes this help. Remap a key by its id in the config's [keys]."
            yield Static(Text(hint, style="dim"), id="help-hint")

    def action_close(self) -> None:
        """Back to the screen underneath."""
        self.dismiss()
