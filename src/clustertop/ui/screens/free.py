"""The free GPUs view: free GPUs and MIG instances by host, with the lines to paste to use them."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from clustertop.analysis.free_gpus import (
    DEFAULT_MEMORY_MIB,
    DEFAULT_UTIL_PERCENT,
    FreeGpu,
    HostFreeGpus,
    free_gpus,
)
from clustertop.ui.clipboard import copy_text
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.widgets.cells import DIM, OK, Cell, text_cell
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import NA, human_bytes, used_of

FREE_COLUMNS = (
    ColumnSpec("host", "Host", 16, descending=False),
    ColumnSpec("free", "Free", 4, descending=False),
    ColumnSpec("gpu", "GPU", 3, descending=False),
    ColumnSpec("model", "Model", 24, descending=False),
    ColumnSpec("memory", "Memory free", 20, descending=False),
    ColumnSpec("ready", "Ready line (c copies it)", None, descending=False, flex=True),
)
"""Free GPUs view columns. Rows keep the analysis order (hosts with most free first)."""


def _memory(gpu: FreeGpu) -> str:
    if gpu.memory_total is None:
        return NA
    return f"{used_of(gpu.memory_free, gpu.memory_total)}"


def row_key(host: str, gpu: FreeGpu) -> str:
    """The row of a free GPU, or of a free MIG instance (by its MIG UUID, else GPU/device)."""
    if gpu.instance is None:
        return json.dumps([host, gpu.uuid or str(gpu.index)])
    instance = gpu.instance
    if instance.uuid:
        return json.dumps([host, instance.uuid])
    if instance.device_index is not None:
        return json.dumps([host, f"{gpu.uuid}/mig{instance.device_index}"])
    # dcgm-exporter names neither MIG device nor UUID: the GI (and CI) are what is known.
    ids = f"{instance.gpu_instance_id}/{instance.compute_instance_id}"
    return json.dumps([host, f"{gpu.uuid}/gi{ids}"])


def _ready(entry: HostFreeGpus, gpu: FreeGpu, first: bool) -> Cell:
    """`first`: the host's first whole GPU, which carries the whole GPUs' line."""
    if gpu.instance is None:
        return text_cell(entry.ready_line) if first else Cell("")
    if gpu.ready_line is None:
        return Cell("MIG UUID unknown (not in nvidia-smi -L or the exporter's labels)", DIM)
    return text_cell(gpu.ready_line)


def _model(gpu: FreeGpu) -> Cell:
    return text_cell(gpu.name) if gpu.instance is None else text_cell(f"MIG {gpu.instance.label}")


def _gpu(gpu: FreeGpu) -> Cell:
    dev = None if gpu.instance is None else gpu.instance.device_index
    return Cell(
        str(gpu.index) if gpu.instance is None else f"{gpu.index}:{NA if dev is None else dev}"
    )


def host_rows(rank: int, entry: HostFreeGpus) -> list[RowData]:
    """One row per free GPU or MIG instance of a host; the host and count on its first row, the
    whole GPUs' ready line on the first whole GPU's row, each MIG instance's own line on its row.

    Every row sorts by (host rank, position) in the first column, so the table keeps the
    analysis order: hosts by free count and memory, GPUs by index, instances under them.
    """
    rows = []
    first_whole = next((g for g in entry.gpus if g.instance is None), None)
    for position, gpu in enumerate(entry.gpus):
        first = position == 0
        order = (float(rank), float(position))
        cells = (
            Cell(sort_key=order).add(text_cell(entry.host, "bold") if first else Text("")),
            Cell(str(len(entry.gpus)) if first else "", OK),
            _gpu(gpu),
            _model(gpu),
            Cell(_memory(gpu), "" if gpu.memory_total is not None else DIM),
            _ready(entry, gpu, gpu is first_whole),
        )
        rows.append(RowData(row_key(entry.host, gpu), cells, entry))
    return rows


def line_of(row: RowData) -> str | None:
    """What `c` copies on a row: the instance's own line on a MIG row, else the host's line."""
    entry = row.target
    if not isinstance(entry, HostFreeGpus):
        return None
    for gpu in entry.instances:
        if row_key(entry.host, gpu) == row.key:
            return gpu.ready_line
    return entry.ready_line or None


def _mig_note(entries: list[HostFreeGpus]) -> str:
    count = sum(len(entry.instances) for entry in entries)
    return f" (incl. {count} MIG instances)" if count else ""


class FreeGpusScreen(ClusterView):
    """Where the free GPUs are right now; `c` copies the selected host's ssh line."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy_ready_line", "Copy ssh line", id="free.copy"),
        Binding("enter", "choose", "Open host", id="free.open", priority=True),
    ]
    COLUMNS = FREE_COLUMNS
    VIEW_TITLE = "free GPUs"

    def thresholds(self) -> tuple[int, float]:
        """MiB and utilisation at or under which an idle GPU counts as free (from the config)."""
        if self.analysis is None:
            return DEFAULT_MEMORY_MIB, DEFAULT_UTIL_PERCENT
        return self.analysis.free_gpu_memory_mib, self.analysis.free_gpu_util_percent

    def entries(self) -> list[HostFreeGpus]:
        """analysis.free_gpus over the newest snapshots."""
        memory_mib, util_percent = self.thresholds()
        return free_gpus(self.live.store.all(), memory_mib=memory_mib, util_percent=util_percent)

    def build(self) -> tuple[list[RowData], Text]:
        """Rows per free GPU, and how many there are where."""
        entries = self.entries()
        rows = [row for rank, entry in enumerate(entries) for row in host_rows(rank, entry)]
        memory_mib, util_percent = self.thresholds()
        free_memory = sum(entry.memory_free for entry in entries)
        summary = Text.assemble(
            ("Free GPUs ", "bold"),
            (str(len(rows)), OK if rows else DIM),
            f" on {len(entries)} hosts, {human_bytes(free_memory)} free",
            _mig_note(entries),
            ("   free: ", "bold"),
            f"no process, ≤ {memory_mib} MiB used, ≤ {util_percent:g}% busy",
        )
        return rows, summary

    def action_copy_ready_line(self) -> None:
        """Copy the selected host's `ssh host CUDA_VISIBLE_DEVICES=...` line."""
        row = self.selected()
        line = line_of(row) if row is not None else None
        if line:
            copy_text(self.app, line, "ssh line")

    def chosen(self, row: RowData) -> None:
        """Open the host of the row."""
        if isinstance(row.target, HostFreeGpus):
            self.post_message(self.OpenHost(row.target.host))
