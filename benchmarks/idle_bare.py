"""Textual's own idle floor: the grid screen's layout with a static table, nothing updating.

Run by `benchmarks.idle_cost --floor` in a terminal beside clustertop: Header, a one-line
summary, a hidden Input, a DataTable of `--hosts` rows and the grid's 12 columns, a Footer with
the grid's keys. Nothing changes after start, so its CPU is what Textual costs doing nothing.
"""

from __future__ import annotations

import argparse
import sys
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Header, Input, Static

COLUMNS: tuple[str, ...] = ("Host", "State", "Lat", "CPU", "Load", "Mem", "GPUs", "GPU mem")
COLUMNS += ("Temp", "Disk", "Ctrs", "Net ↓/↑", "GPU·1h")
ROW: tuple[str, ...] = ("up", "3ms", "12%", "0.52", "5.1/15.6 GiB", "▁▁▁▁ 4/4 free", "0/80 GiB")
ROW += ("41°", "41% of 98 GiB", "-", "1.2K/800", "▁▁▁▁▁▁▁▁")


class BareGrid(App[None]):
    """The grid screen's widgets with fixed content."""

    CSS = "#summary { height: 1; padding: 0 1; } #filter { height: 1; margin: 0 1; }"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("s", "bell", "Sort"),
        Binding("slash", "bell", "Filter"),
        Binding("u", "bell", "Users"),
        Binding("f", "bell", "Free GPUs"),
        Binding("a", "bell", "Alerts"),
    ]

    def __init__(self, hosts: int) -> None:
        super().__init__()
        self.hosts = hosts

    def compose(self) -> ComposeResult:
        """As the grid screen: header, summary, hidden filter box, table, footer."""
        yield Header()
        yield Static(f"Hosts {self.hosts} up · bare Textual floor", id="summary")
        yield Input(id="filter", compact=True)
        yield DataTable(id="hosts", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the table once."""
        self.query_one("#filter", Input).display = False
        table = self.query_one("#hosts", DataTable)
        table.add_columns(*COLUMNS)
        for index in range(1, self.hosts + 1):
            table.add_row(f"h{index}", *ROW, key=f"h{index}")
        table.focus()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10)
    BareGrid(parser.parse_args().hosts).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
