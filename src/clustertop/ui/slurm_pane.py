"""Host screen pane of the Slurm jobs running on a host (shown where the host runs slurmd)."""

from __future__ import annotations

from textual.widgets import TabbedContent

from clustertop.analysis.jobs import JobRow, slurm_jobs
from clustertop.model import HostSnapshot
from clustertop.ui.panes import Pane, PaneContext
from clustertop.ui.row_cells import dash_or
from clustertop.ui.widgets.cells import BAD, DIM, Cell, number_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import duration, percent

SLURM_PANE = "slurm-jobs"
"""Pane id of the Slurm jobs (`T` cancels the job under the cursor, `X` the stale ones)."""


def has_slurm(snap: HostSnapshot | None) -> bool:
    """True where the host runs slurmd, or one of its processes is in a Slurm job."""
    return snap is not None and (snap.slurm is not None or bool(slurm_jobs(snap)))


def show_slurm_tab(tabs: TabbedContent, shown: bool, fallback: str) -> bool:
    """Show or hide the Slurm jobs tab (going to `fallback` when it hides while on show);
    True when it changed."""
    tab_id = f"pane-{SLURM_PANE}"
    if tabs.get_tab(tab_id).display == shown:
        return False
    if shown:
        tabs.show_tab(tab_id)
    else:
        if tabs.active == tab_id:
            tabs.active = fallback
        tabs.hide_tab(tab_id)
    return True


def _gpus(job: JobRow) -> Cell:
    shown = ",".join(str(index) for index in job.gpus)
    return Cell(shown, "", (float(len(job.gpus)), shown)) if shown else Cell("-", DIM, (0.0,))


def _elapsed(job: JobRow) -> Cell:
    if job.elapsed_s is None:
        return Cell("-", DIM)
    return number_cell(duration(job.elapsed_s), job.elapsed_s)


def _job_cells(job: JobRow, stale: bool) -> tuple[Cell, ...]:
    util = job.gpu_util_percent
    return (
        number_cell(job.id, float(job.id)),
        dash_or(job.user),
        dash_or(job.name),
        dash_or(job.partition),
        _gpus(job),
        _elapsed(job),
        number_cell(percent(util), util, DIM if util is None else ""),
        dash_or(job.state),
        Cell("stale", BAD, (1.0,)) if stale else Cell("-", DIM, (0.0,)),
    )


def _job_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [
        RowData(f"job:{job.id}", _job_cells(job, job.id in ctx.stale_jobs), job)
        for job in slurm_jobs(snap)
    ]


JOB_COLUMNS = (
    ColumnSpec("job", "Job", 9, descending=False),
    ColumnSpec("user", "User", 12, descending=False),
    ColumnSpec("name", "Name", 20, descending=False),
    ColumnSpec("partition", "Partition", 10, descending=False),
    ColumnSpec("gpus", "GPUs", 10),
    ColumnSpec("elapsed", "Elapsed", 9),
    ColumnSpec("util", "GPU util", 8),
    ColumnSpec("state", "State", 10, descending=False),
    ColumnSpec("stale", "Stale", None),
)

SLURM_PANES = (Pane(SLURM_PANE, "Slurm jobs", JOB_COLUMNS, _job_rows),)
"""The panes this module adds to the host screen, after the network ones."""
