"""Table benchmark: CPU per tick of the grid table against DataTable and textual-fastdatatable."""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import math
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widget import Widget

from benchmarks import machine
from benchmarks.table_cases import (
    CASES,
    SPECS,
    OursTable,
    Table,
    changed_cells,
    fitting,
    grid_ticks,
    project,
)
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData

SIZE = (160, 48)
"""Terminal size of the headless app."""
CLOSE_ENOUGH = 1.5
"""A maintained table within this factor of ours (median CPU per tick) replaces ours."""
OUT = Path(__file__).with_name("TABLES.md")


@dataclass
class CaseResult:
    """What one table cost, in CPU seconds of this process."""

    name: str
    """Short name (keyed, datatable, fastdatatable, fastdatatable-plain)."""
    label: str
    """What ran, for the report."""
    load_s: list[float] = field(default_factory=list)
    """Per round: filling the table with the first grid and painting it (reported: median)."""
    tick_s: list[float] = field(default_factory=list)
    """Per measured tick: applying the new grid plus the repaint."""
    paint_s: list[float] = field(default_factory=list)
    """Per measured tick: the repaint alone (the pause that renders the screen)."""
    lines: list[int] = field(default_factory=list)
    """Per measured tick: render_line calls (0 would mean nothing was repainted)."""
    cursor_s: list[float] = field(default_factory=list)
    """Per measured key press: 'down' handled and repainted."""
    cursor_lines: list[int] = field(default_factory=list)
    """Per measured key press: render_line calls."""
    first_row: str = ""
    """The first data row's text as painted after the last tick (every table should agree)."""


class BenchApp(App[None]):
    """A screen holding nothing but the table under test."""

    CSS = "#table { height: 1fr; }"

    def __init__(self, table: Widget) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        """The table."""
        yield self.table


async def measure(
    kind: type[Table], specs: Sequence[ColumnSpec], grids: Sequence[Sequence[RowData]], warmup: int
) -> CaseResult:
    """Run a `kind` table headless: fill, one tick per later grid, then as many cursor moves."""
    result = CaseResult(kind.name, kind.label)
    gc.collect()
    start = time.process_time()
    case = kind(specs, grids[0])  # (c) loads its backend here
    built = time.process_time() - start
    async with BenchApp(case.widget).run_test(size=SIZE) as pilot:
        start = time.process_time()
        case.mounted()
        await pilot.pause()
        result.load_s.append(built + time.process_time() - start)
        if isinstance(case, OursTable) and len(case.grid.shown) != len(case.specs):
            raise RuntimeError("the grid hid columns: the tables would not show the same cells")
        for index, rows in enumerate(grids[1:]):
            lines = case.lines_rendered
            start = time.process_time()
            case.apply(rows)
            applied = time.process_time()
            await pilot.pause()
            end = time.process_time()
            if index >= warmup:
                result.tick_s.append(end - start)
                result.paint_s.append(end - applied)
                result.lines.append(case.lines_rendered - lines)
        result.first_row = case.widget.render_line(1).text
        for index in range(len(grids) - 1):
            lines = case.lines_rendered
            start = time.process_time()
            await pilot.press("down")
            await pilot.pause()
            if index >= warmup:
                result.cursor_s.append(time.process_time() - start)
                result.cursor_lines.append(case.lines_rendered - lines)
    return result


def run(
    hosts: int, ticks: int, warmup: int, rounds: int = 1
) -> tuple[list[CaseResult], dict[str, float]]:
    """Every table on the same grids, `rounds` times (every other round in reverse order, so
    a machine getting busier does not favour one table); also facts about the grids."""
    grids = grid_ticks(hosts, ticks + warmup + 1)
    specs = fitting(SPECS, grids[0])
    shown = [project(rows, specs) for rows in grids]
    changes = [len(changed_cells(a, b)) for a, b in itertools.pairwise(shown)]
    facts = {
        "hosts": float(hosts),
        "columns": float(len(specs)),
        "built": float(len(SPECS)),
        "changed": statistics.median(changes[warmup:]),
        "rounds": float(rounds),
    }
    pooled = {kind: CaseResult(kind.name, kind.label) for kind in CASES}
    for round_no in range(rounds):
        for kind in CASES if round_no % 2 == 0 else reversed(CASES):
            _pool(pooled[kind], asyncio.run(measure(kind, specs, shown, warmup)))
    return list(pooled.values()), facts


def _pool(into: CaseResult, result: CaseResult) -> None:
    into.load_s += result.load_s
    into.tick_s += result.tick_s
    into.paint_s += result.paint_s
    into.lines += result.lines
    into.cursor_s += result.cursor_s
    into.cursor_lines += result.cursor_lines
    into.first_row = result.first_row


def p95(values: Sequence[float]) -> float:
    """95th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def _ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def _ratio(value: float, ours: float) -> str:
    return f"{value / ours:.2f}x" if ours > 0 else "-"


def table_rows(results: Sequence[CaseResult]) -> list[str]:
    """The Markdown table: medians and p95 in ms of CPU, ratios to (a)."""
    ours = results[0]
    base = (
        statistics.median(ours.tick_s),
        statistics.median(ours.paint_s),
        statistics.median(ours.cursor_s),
    )
    lines = [
        "| table | tick median | tick p95 | tick vs (a) | repaint median | repaint p95 "
        "| repaint vs (a) | cursor median | cursor p95 | cursor vs (a) | first fill "
        "| lines/tick | lines/move |",
        "|---|" + "---:|" * 12,
    ]
    for result in results:
        tick, paint = statistics.median(result.tick_s), statistics.median(result.paint_s)
        cursor = statistics.median(result.cursor_s)
        cells = [
            result.label,
            _ms(tick),
            _ms(p95(result.tick_s)),
            _ratio(tick, base[0]),
            _ms(paint),
            _ms(p95(result.paint_s)),
            _ratio(paint, base[1]),
            _ms(cursor),
            _ms(p95(result.cursor_s)),
            _ratio(cursor, base[2]),
            _ms(statistics.median(result.load_s)),
            f"{statistics.median(result.lines):.0f}",
            f"{statistics.median(result.cursor_lines):.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdict(results: Sequence[CaseResult]) -> str:
    """Keep the private internals only if no maintained table is within CLOSE_ENOUGH of ours."""
    ours = statistics.median(results[0].tick_s)
    best = min(results[1:], key=lambda result: statistics.median(result.tick_s))
    ratio = statistics.median(best.tick_s) / ours
    if ratio <= CLOSE_ENOUGH:
        return (
            f"**Verdict: drop the private internals** — {best.label} takes {ratio:.2f}x the CPU "
            f"per tick of (a), within {CLOSE_ENOUGH}x."
        )
    return (
        f"**Verdict: keep the private internals** — the closest maintained option, {best.label}, "
        f"takes {ratio:.2f}x the CPU per tick of (a) (threshold {CLOSE_ENOUGH}x)."
    )


def saving(results: Sequence[CaseResult]) -> str:
    """What the render caches save per repaint against plain DataTable, in words."""
    ours, plain = results[0], results[1]
    saved = statistics.median(plain.paint_s) - statistics.median(ours.paint_s)
    repaint = min(
        statistics.median(result.paint_s) / statistics.median(ours.paint_s)
        for result in results[1:]
    )
    cursor = min(
        statistics.median(result.cursor_s) / statistics.median(ours.cursor_s)
        for result in results[1:]
    )
    return (
        f"The render caches save {saved * 1000:.0f} ms of CPU per full repaint against "
        "Textual's DataTable here (fast_table.py's docstring estimates ~100 ms); on the repaint "
        f"alone the closest maintained table takes {repaint:.2f}x (a)'s CPU. A cursor move "
        f"repaints only a few lines, and there the closest takes {cursor:.2f}x."
    )


LIMITS = (
    "- **No Rich Text cells.** Arrow stores strings and numbers, so a cell's colours travel as "
    "Rich markup (`Cell.markup` here), parsed again on every render; every piece of untrusted "
    "host text must be markup-escaped on the way in (clustertop shows it through "
    "`textsafe.literal` as Text, never as markup).",
    "- **No row keys.** Rows are addressed by position (`update_cell(row_index, column_index)`, "
    "`remove_row(row_index)`); a host joining or leaving shifts every index after it, so the "
    "grid's diff by host identity and its cursor that stays on the same host would be ours to "
    "rebuild on top.",
    "- **No sort by the underlying value.** `sort()` orders the stored Arrow values: the markup "
    "strings, so rows order by colour tag first, then as text (`1.2 GiB` before `900 MiB`). "
    "Sort keys would need extra columns, and every column is shown: there is no hidden column "
    "and no `remove_column`, so neither sort keys nor KeyedTable's narrow-terminal column "
    "dropping fit.",
    "- **Updates rebuild a column.** `ArrowBackend.update_cell` turns the whole column into "
    "Python values and back (O(rows) per changed cell), and every update bumps one table-wide "
    "counter that keys all render caches, as DataTable does; `update_cell_at` raises "
    "NotImplementedError.",
)
"""What (c) and (c') lack that the grid uses, checked against the 0.19.5 source."""


def render(results: Sequence[CaseResult], facts: dict[str, float], args: Sequence[str]) -> str:
    """TABLES.md; `args` are the command's options."""
    ticks, warmup = len(results[0].tick_s) // int(facts["rounds"]), int(facts["warmup"])
    lines = [
        "# Tables: the grid's table against DataTable and textual-fastdatatable",
        "",
        "Written by `PYTHONPATH=src .venv/bin/python -m benchmarks.table_bench --write`; do not "
        "edit by hand. `ui/widgets/fast_table.py` (FastDataTable) and `ui/widgets/table_sync.py` "
        "(KeyedTable) override private Textual DataTable methods to cache renders per cell "
        "object; this measures what that buys against maintained tables.",
        "",
        "## Setup",
        "",
        *_setup(facts, ticks, warmup),
        "",
        "## Results",
        "",
        *table_rows(results),
        "",
        verdict(results),
        "",
        saving(results),
        "",
        "## What textual-fastdatatable cannot do that the grid needs",
        "",
        *LIMITS,
        "",
        "## Run",
        "",
        *_run_facts(facts, args),
        "",
    ]
    return "\n".join(lines)


def _setup(facts: dict[str, float], ticks: int, warmup: int) -> list[str]:
    return [
        f"- A headless Textual app (`App.run_test(size={SIZE})`) showing only the table; "
        f"{facts['hosts']:.0f} demo hosts (the demo cluster copied with other seeds), each row "
        f"built by the grid's own `host_row` plus the GPU·1h sparkline: {facts['built']:.0f} "
        f"columns, of which the {facts['columns']:.0f} that fit 160 columns are shown by every "
        "table (KeyedTable's own drop rule).",
        f"- One tick = the next demo tick's grid applied (a median of {facts['changed']:.0f} "
        "changed cells: CPU, load, memory, GPU bars, latency, sparkline, ...), then "
        "`await pilot.pause()`, which repaints the screen; `lines/tick` counts render_line "
        "calls to show the repaint happened.",
        f"- {ticks} measured ticks after {warmup} warm-up ticks, then {ticks} measured cursor "
        "moves (`down`, then a pause) after as many warm-up moves; each table runs this "
        f"{facts['rounds']:.0f} times in a fresh app (every other round in reverse order) and "
        "the medians and p95 are over all rounds' samples.",
        "- CPU time of this process (`time.process_time`), in ms. Ratios are to (a); "
        "`repaint` is the pause alone, `tick` the update plus the repaint.",
        "- (a) `HostGridTable.sync()` as the app calls it (diff by host, in-order check); "
        "(b) Textual's DataTable, `update_cell(row_key, column_key, cell)` for each changed cell "
        "(same Cell objects); (c) textual-fastdatatable's DataTable on an `ArrowBackend`, "
        "`update_cell(row_index, column_index, cell.markup)` for each changed cell; (c') the "
        "same with `cell.plain` and `render_markup=False` (no colours at all: its cheapest "
        "case, shown to check that markup parsing is not what makes (c) slow). (b) and (c) find "
        "the changed cells with the same test KeyedTable uses, inside the timing. `first fill` "
        "is loading the first grid (for (c), building its Arrow backend) plus the first paint.",
        "- textual-fastdatatable has no public way to swap in a whole new backend per tick, so "
        "(c) changes data in place with `update_cell`; its README warns that the ArrowBackend "
        '"is optimized to be fast for large, immutable datasets. Mutating the data [...] may '
        'be slow".',
    ]


def _run_facts(facts: dict[str, float], args: Sequence[str]) -> list[str]:
    info = machine.describe()
    keep = ("CPU", "Memory", "Kernel", "OS", "Python", "textual")
    versions = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("rich", "textual-fastdatatable", "pyarrow")
    )
    command = " ".join(["PYTHONPATH=src .venv/bin/python -m benchmarks.table_bench", *args])
    return [
        f"- Command: `{command}`",
        f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        *(f"- {name}: {info[name]}" for name in keep),
        f"- Also: {versions}; load average before the run: {facts['load']:.2f} "
        "(CPU time of this process is what is compared; a busy machine still slows it some)",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run every table, print the results, and with --write put them in TABLES.md."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.table_bench", description=__doc__)
    parser.add_argument("--hosts", type=int, default=500, help="hosts in the grid (500)")
    parser.add_argument("--ticks", type=int, default=30, help="measured ticks and moves (30)")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured ticks first (5)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of every table, pooled (2)")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    parser.add_argument("--out", type=Path, default=OUT, help="where --write writes")
    options = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(options)
    if min(args.hosts, args.ticks, args.rounds) < 1 or args.warmup < 0:
        parser.error("--hosts, --ticks and --rounds must be at least 1, --warmup at least 0")
    load = float(machine.load_average().split()[0])
    results, facts = run(args.hosts, args.ticks, args.warmup, args.rounds)
    facts["load"], facts["warmup"] = load, float(args.warmup)
    print("\n".join([*table_rows(results), "", verdict(results), saving(results)]))
    if args.write:
        args.out.write_text(render(results, facts, options))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
