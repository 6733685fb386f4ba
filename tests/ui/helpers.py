"""Shared pieces for UI tests: a scripted Source, hand-made snapshots, reading what is shown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from textual.geometry import Region
from textual.widget import Widget

from clustertop.analysis.live import ClusterAnalysis
from clustertop.model import (
    MIB,
    Container,
    ContainerRef,
    Cpu,
    Disk,
    Gpu,
    GpuProcess,
    HostSnapshot,
    HostState,
    Memory,
    Process,
)
from clustertop.sources.base import SnapshotSink, Source
from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.widgets.table_sync import KeyedTable
from tests.waiting import async_wait_for

NOW = 1_700_000_000.0
"""Fixed clock of the scripted tests."""
GIB = 1024 * MIB


class ScriptedSource(Source):
    """Emits the snapshots a test hands it, when the test says so."""

    def __init__(self, initial: Sequence[HostSnapshot]) -> None:
        self.initial = list(initial)
        self._names = [snap.name for snap in initial]
        self._sink: SnapshotSink | None = None
        self.closed = False
        self.cancelled = False

    @property
    def host_names(self) -> Sequence[str]:
        return self._names

    async def run(self, sink: SnapshotSink) -> None:
        self._sink = sink
        for snap in self.initial:
            sink(snap)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    def emit(self, snap: HostSnapshot) -> None:
        """Deliver `snap` as the source would (on the event loop)."""
        assert self._sink is not None, "source not started"
        self._sink(snap)

    async def aclose(self) -> None:
        self.closed = True


def host(name: str, cpu: float = 10.0, **changes: object) -> HostSnapshot:
    """An up host with one GPU, one container, one process, one disk."""
    ctr_id = name.encode().hex().ljust(64, "0")[:64]
    ref = ContainerRef(ctr_id, f"alice-{name}")
    values: dict[str, object] = {
        "name": name,
        "state": HostState.UP,
        "time": NOW,
        "latency_ms": 2.0,
        "data_time": NOW,
        "hostname": name,
        "cpu": Cpu(cpu, cpu * 0.8, cpu * 0.2, count=8),
        "load": (1.0, 1.0, 1.0),
        "memory": Memory(64 * GIB, 16 * GIB, 48 * GIB, 0, 0),
        "uptime_s": 3600.0,
        "gpus": (
            Gpu(
                0,
                f"GPU-{name}-0",
                "NVIDIA A100-SXM4-80GB",
                50.0,
                10 * GIB,
                80 * GIB,
                60.0,
                200.0,
                400.0,
            ),
        ),
        "gpu_processes": (
            GpuProcess(
                4242,
                0,
                f"GPU-{name}-0",
                9 * GIB,
                "alice",
                "python train.py",
                ref,
                "alice",
                NOW - 600,
                99.0,
            ),
        ),
        "containers": (
            Container(
                ctr_id,
                ref.name,
                "pytorch:latest",
                "running",
                "Up 10 minutes",
                99.0,
                4 * GIB,
                (0,),
                "alice",
            ),
        ),
        "processes": (
            Process(4242, "alice", 99.0, 6.0, 4 * GIB, NOW - 600, "python train.py", ref),
        ),
        "disks": (Disk("/", "/dev/sda1", "ext4", 100 * GIB, 40 * GIB, 55 * GIB),),
    }
    values.update(changes)
    return HostSnapshot(**values)  # type: ignore[arg-type]


def scripted_app(
    snaps: Sequence[HostSnapshot], analysis: ClusterAnalysis | None = None, **options: Any
) -> tuple[ClusterTopApp, ScriptedSource]:
    """An app over a ScriptedSource with a fixed clock; `options` as AppOptions takes them."""
    source = ScriptedSource(snaps)
    app = ClusterTopApp(source, analysis, AppOptions(clock=lambda: NOW, **options))
    return app, source


def widget_text(widget: Widget) -> str:
    """The text a widget shows now, line by line."""
    width, height = widget.size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


def cell_text(table: KeyedTable, row: str, column: str) -> str:
    """Plain text of one cell."""
    return table.get_cell(row, column).plain


async def wait_rows(table: KeyedTable, count: int) -> None:
    """Wait until `table` shows `count` rows."""
    await async_wait_for(lambda: table.row_count == count, timeout=10, what=f"{count} rows")


async def until(predicate: Callable[[], object], what: str) -> None:
    """Wait (bounded) for a UI effect that arrives through a chain of messages."""
    await async_wait_for(predicate, timeout=10, what=what)
