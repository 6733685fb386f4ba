"""AppOptions: everything the app is told at start, besides its source and its analysis."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from clustertop.actions.model import ActionRunner
from clustertop.store.recorder import HistoryRecorder
from clustertop.ui.shell import ShellLauncher


@dataclass(frozen=True, slots=True)
class AppOptions:
    """How the TUI runs: `clustertop` fills it from the config and the command line."""

    interval: float = 2.0
    """Refresh interval of the source in seconds (when ages count as old)."""
    readonly: bool = False
    """No action key is offered and nothing is run (also when there is no runner)."""
    runner: ActionRunner | None = None
    """What acts on hosts (None: nothing can, the app is read-only)."""
    owner: str | None = None
    """Start filtered to this person's hosts and rows (None: everyone's)."""
    bell: bool = False
    """Ring the terminal bell when a new alert appears (needs an analysis)."""
    shell: ShellLauncher = field(default_factory=ShellLauncher)
    """How `o` opens a shell on a host (the default opens none)."""
    keys: Mapping[str, str] = field(default_factory=dict)
    """Key overrides by binding id (see `binding_ids`), e.g. {'grid.sort': 'o'}."""
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Host groups for `@group` filters."""
    theme: str | None = None
    """Textual theme (None: Textual's default)."""
    title: str = "clustertop"
    """The header's title."""
    clock: Callable[[], float] = time.time
    """Current unix time (fixed in screenshots and snapshot tests)."""
    recorder: HistoryRecorder | None = None
    """Records every reading into the history store (None: history is not kept)."""
    history_problem: str | None = None
    """Why history is not recorded although it is on (a notice at start)."""
