"""The host screen's pane registry and key bindings: which pane has which number key."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from clustertop.ui.host_actions import HOST_ACTION_BINDINGS
from clustertop.ui.netio_panes import NETIO_PANES
from clustertop.ui.panes import PANES as FIRST_PANES
from clustertop.ui.panes import Pane
from clustertop.ui.slurm_pane import SLURM_PANES
from clustertop.ui.widgets.history_pane import HISTORY_PANE

_PANES_GROUP = Binding.Group("Panes", compact=True)
PANES = (*FIRST_PANES, *NETIO_PANES, *SLURM_PANES)
"""Every table pane; History keeps key len(FIRST_PANES) + 1, the panes after it the next keys."""
HISTORY_KEY = len(FIRST_PANES) + 1
"""The History tab's key (6: it keeps its key as panes are added after it)."""


def numbered_panes() -> list[tuple[int, Pane]]:
    """Each table pane with its key: 1-5, then (after History) 7 and up."""
    return [
        (number if number < HISTORY_KEY else number + 1, pane)
        for number, pane in enumerate(PANES, start=1)
    ]


def tab_order(with_slurm: bool) -> list[str]:
    """Pane ids in the order Tab visits them (the Slurm pane only where the host runs slurmd)."""
    ids = [pane.id for pane in FIRST_PANES] + [HISTORY_PANE] + [p.id for p in NETIO_PANES]
    return ids + [pane.id for pane in SLURM_PANES] if with_slurm else ids


def _pane_bindings() -> list[Binding]:
    bindings = [
        Binding(
            str(number),
            f"show_pane('{pane.id}')",
            pane.title,
            id=f"host.pane.{pane.id.replace('-', '_')}",
            group=_PANES_GROUP,
        )
        for number, pane in numbered_panes()
    ]
    history = Binding(  # after the first table panes: the chart tab
        str(HISTORY_KEY),
        f"show_pane('{HISTORY_PANE}')",
        "History",
        id="host.pane.history",
        group=_PANES_GROUP,
    )
    return sorted([*bindings, history], key=lambda binding: binding.key)  # footer: 1 to 8


HOST_BINDINGS: list[BindingType] = [
    *_pane_bindings(),
    Binding("tab", "next_pane(1)", "Next pane", show=False, id="host.pane.next"),
    Binding("shift+tab", "next_pane(-1)", "Previous pane", show=False, id="host.pane.previous"),
    Binding("s", "cycle_sort", "Sort", id="host.sort"),
    Binding("r", "reverse_sort", "Reverse", id="host.reverse"),
    Binding("c", "sort_by('cpu')", "By CPU", id="host.sort.cpu"),
    Binding("m", "sort_by('memory')", "By memory", id="host.sort.memory"),
    Binding("slash", "start_filter", "Filter", id="host.filter"),
    Binding("escape", "back", "Back", id="host.back"),
    # Before the shell's `o`: in the Ports pane `o` gives the port's ssh -L line instead.
    Binding("o", "tunnel_line", "ssh -L line", id="host.tunnel"),
    Binding("o", "app.open_shell", "Shell", id="host.shell"),
    Binding("z", "zoom", "Zoom", id="host.zoom"),
    *HOST_ACTION_BINDINGS,
]
"""The host screen's keys, in footer order."""
