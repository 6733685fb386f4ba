"""The users view: one row per person across the cluster; Enter filters everything to them."""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from clustertop.analysis.users import UserRow, user_rows
from clustertop.ui.context import LiveContext
from clustertop.ui.screens.cluster_view import SORT_BINDINGS, ClusterView
from clustertop.ui.widgets.cells import DIM, WARN, Cell, number_cell, text_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import human_bytes, percent

USER_COLUMNS = (
    ColumnSpec("owner", "Owner", 16, descending=False),
    ColumnSpec("gpus", "GPUs", 5),
    ColumnSpec("gpumem", "GPU mem", 10),
    ColumnSpec("util", "Mean util", 9),
    ColumnSpec("running", "Running", 7),
    ColumnSpec("stale", "Stale", 5),  # stale containers, Slurm jobs and pods
    ColumnSpec("procs", "GPU procs", 9),
    ColumnSpec("nhosts", "Hosts", 5),
    ColumnSpec("hosts", "On", None, descending=False, flex=True),
)
"""Users view columns, left to right."""


def cluster_user_rows(live: LiveContext) -> list[UserRow]:
    """analysis.users.user_rows over the newest snapshots, with the app's stale sets."""
    snaps = live.store.all()
    stale_jobs = {snap.name: live.stale_jobs(snap) for snap in snaps}
    stale_pods = {snap.name: live.stale_pods(snap) for snap in snaps}
    stale = {snap.name: live.stale(snap) for snap in snaps}
    return user_rows(snaps, stale, stale_jobs, stale_pods)


def _count(value: int, style: str | Style = "") -> Cell:
    return Cell(str(value), style if value else DIM, (float(value),))


def user_row(row: UserRow) -> RowData:
    """The table row of one person (the owner is host data: shown literally)."""
    cells = (
        text_cell(row.owner, "bold"),
        Cell(str(row.gpus), "", (float(row.gpus), float(row.gpu_memory))),
        number_cell(human_bytes(row.gpu_memory), float(row.gpu_memory)),
        number_cell(percent(row.mean_util), row.mean_util),
        _count(row.containers_running),
        _count(row.containers_stale + row.jobs_stale + row.pods_stale, WARN),
        _count(row.processes),
        _count(len(row.hosts)),
        text_cell(", ".join(row.hosts)),
    )
    return RowData(row.owner, cells, row)


class UsersScreen(ClusterView):
    """Who holds what: GPUs, GPU memory, containers and processes per person."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Show their hosts", id="users.choose", priority=True),
        *SORT_BINDINGS,
    ]
    COLUMNS = USER_COLUMNS
    SORT_BY = "gpus"
    VIEW_TITLE = "users"

    class OwnerChosen(Message):
        """Enter on a person: show only their hosts and rows."""

        def __init__(self, owner: str) -> None:
            super().__init__()
            self.owner = owner
            """The person chosen (as shown in the Owner column)."""

    def build(self) -> tuple[list[RowData], Text]:
        """One row per person on an up host."""
        rows = cluster_user_rows(self.live)
        held = sum(row.gpus for row in rows)
        summary = Text.assemble(
            ("People ", "bold"),
            str(len(rows)),
            ("   GPUs held ", "bold"),
            str(held),
            ("   Enter", "bold"),
            " shows only that person's hosts and rows; Escape on the grid shows everyone again",
        )
        return [user_row(row) for row in rows], summary

    def chosen(self, row: RowData) -> None:
        """Filter the grid and host screens to this person."""
        if isinstance(row.target, UserRow):
            self.post_message(self.OwnerChosen(row.target.owner))
