"""What fills a disk: the largest directories of a mount (du, on demand) and Docker's share."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from clustertop.actions.disk_usage import MAX_DEPTH, Progress, docker_usage, scan
from clustertop.actions.model import ActionRunner
from clustertop.model import Disk
from clustertop.model.diskusage import DirSize, DiskUsage, DockerUsage
from clustertop.ui.widgets.cells import WARN, number_cell, text_cell
from clustertop.ui.widgets.footer import KeysFooter
from clustertop.ui.widgets.table_sync import ColumnSpec, KeyedTable, RowData
from clustertop.util.textsafe import printable
from clustertop.util.units import duration, human_bytes, ratio_percent

DEADLINE_S = 60
"""Seconds du may run on the host before `timeout` stops it (results then marked partial)."""
DOCKER_SHOWN = 8
"""Docker items listed (the largest)."""
COLUMNS = (
    ColumnSpec("size", "Size", 12),
    ColumnSpec("share", "Of used", 8),
    ColumnSpec("depth", "Depth", 5),
    ColumnSpec("path", "Directory", None, descending=False, flex=True),
)


@dataclass(slots=True)
class DiskUsageCache:
    """Finished scans per (host, mount, depth), kept for the app's life: du runs only on
    demand, and a result is shown again with its age instead of scanning again."""

    scans: dict[tuple[str, str, int], DiskUsage] = field(default_factory=dict)
    """The newest scan of each."""
    docker: dict[str, DockerUsage] = field(default_factory=dict)
    """Docker's share per host."""


def _row(entry: DirSize, used: int) -> RowData:
    share = ratio_percent(entry.size, used)
    cells = (
        number_cell(human_bytes(entry.size), float(entry.size)),
        number_cell("N/A" if share is None else f"{share:.0f}%", share),
        number_cell(str(entry.depth), float(entry.depth)),
        text_cell(entry.path),
    )
    return RowData(entry.path, cells, entry)


def status_text(usage: DiskUsage | None, progress: Progress, now: float, running: bool) -> Text:
    """The line above the table: progress while running, else how complete and how old."""
    text = Text()
    if running:
        spent = time.monotonic() - progress.started if progress.started else 0.0
        text.append(f"scanning… {progress.dirs} directories, {spent:.0f} s", "bold")
        text.append(f" (deadline {DEADLINE_S} s)  ", "dim").append(printable(progress.last))
        return text
    if usage is None:
        return text.append("no scan yet: r runs du", "dim")
    if usage.status is None and not usage.dirs:
        why = usage.problems[0] if usage.problems else "no output"
        return text.append("du did not run: ", "bold").append(printable(why), WARN)
    if usage.partial:
        text.append(f" PARTIAL: du stopped after {usage.seconds:.0f} s ", "bold reverse")
        text.append(" directories listed are complete; the rest (and totals above them) are not")
    else:
        text.append(f"complete in {usage.seconds:.1f} s", "bold")
    text.append(f"  ·  {duration(now - usage.finished_at)} old  ·  depth {usage.depth}", "dim")
    for problem in usage.problems[:2]:
        text.append("\n" + printable(problem), WARN)
    return text


def docker_text(usage: DockerUsage | None, log_sizes: dict[str, int]) -> Text:
    """Docker's share: totals per kind, the largest items, and container logs."""
    text = Text("Docker  ", "bold")
    if usage is None:
        return text.append("reading docker system df…", "dim")
    if usage.error:
        return text.append(printable(usage.error), "dim")
    for kind in ("images", "containers", "volumes", "build cache"):
        text.append(f"{kind} {human_bytes(usage.total(kind))}  ")
    text.append(f"container logs {human_bytes(sum(log_sizes.values()))}")
    for item in usage.items[:DOCKER_SHOWN]:
        text.append(f"\n  {human_bytes(item.size):>10}  {item.kind:<11} ", "dim")
        text.append(printable(item.name))
    for name, size in sorted(log_sizes.items(), key=lambda pair: -pair[1])[:3]:
        text.append(f"\n  {human_bytes(size):>10}  {'log':<11} ", "dim").append(printable(name))
    return text


class DiskUsageScreen(Screen[None]):
    """du on one mount of one host, with progress; `r` scans again, `+`/`-` change the depth."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", id="du.close"),
        Binding("r", "rescan", "Scan again", id="du.rescan"),
        Binding("plus", "depth(1)", "Deeper", id="du.deeper"),
        Binding("minus", "depth(-1)", "Shallower", id="du.shallower"),
    ]

    def __init__(
        self,
        *,
        runner: ActionRunner,
        host: str,
        disk: Disk,
        cache: DiskUsageCache,
        clock: Callable[[], float],
        log_sizes: dict[str, int],
    ) -> None:
        super().__init__()
        self.runner, self.host, self.disk, self.cache = runner, host, disk, cache
        self.clock = clock
        self.log_sizes = log_sizes
        self.depth = 2
        """Levels under the mount listed."""
        self.progress = Progress()
        self.running = False

    def compose(self) -> ComposeResult:
        """Header, status line, directories, Docker's share, footer."""
        yield Header()
        yield Static(id="du-status")
        yield KeyedTable(COLUMNS, sort_by="size", id="du-table")
        yield Static(id="du-docker")
        yield KeysFooter()

    def on_mount(self) -> None:
        """Show a cached scan with its age, or start one."""
        self.sub_title = f"{printable(self.host)} · what fills {printable(self.disk.mount)}"
        self.set_interval(0.5, self._show_status)
        self.query_one(KeyedTable).focus()
        if self._cached() is None:
            self.action_rescan()
        else:
            self._show()
        if self.host not in self.cache.docker:
            self.run_worker(self._docker(), name="docker-df", exit_on_error=False)
        self._show_docker()

    def _cached(self) -> DiskUsage | None:
        return self.cache.scans.get((self.host, self.disk.mount, self.depth))

    def action_rescan(self) -> None:
        """Run du again (one scan at a time)."""
        if self.running:
            return
        self.running, self.progress = True, Progress()
        self.run_worker(self._scan(), name="du", exit_on_error=False, exclusive=True)
        self._show_status()

    def action_depth(self, step: int) -> None:
        """List one level more or less; a depth scanned before shows at once."""
        depth = min(max(self.depth + step, 1), MAX_DEPTH)
        if depth != self.depth and not self.running:
            self.depth = depth
            if self._cached() is None:
                self.action_rescan()
            else:
                self._show()

    async def _scan(self) -> None:
        try:
            usage = await scan(self.runner, self.host, self.disk.mount, depth=self.depth,
                               deadline_s=DEADLINE_S, progress=self.progress)  # fmt: skip
            self.cache.scans[(self.host, self.disk.mount, self.depth)] = usage
        finally:
            self.running = False
        if self.is_mounted:
            self._show()

    async def _docker(self) -> None:
        self.cache.docker[self.host] = await docker_usage(self.runner, self.host)
        if self.is_mounted:
            self._show_docker()

    def _show(self) -> None:
        usage = self._cached()
        rows = [_row(entry, self.disk.used) for entry in usage.dirs] if usage else []
        self.query_one(KeyedTable).sync(rows)
        self._show_status()

    def _show_status(self) -> None:
        now = self.clock()
        text = status_text(self._cached(), self.progress, now, self.running)
        self.query_one("#du-status", Static).update(text)

    def _show_docker(self) -> None:
        text = docker_text(self.cache.docker.get(self.host), self.log_sizes)
        self.query_one("#du-docker", Static).update(text)

    def action_close(self) -> None:
        """Back to the host screen; a scan still running stops (its du too, on the host)."""
        self.dismiss()
