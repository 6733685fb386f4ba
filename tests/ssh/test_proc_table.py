"""The SSH process table: unchanged rows keep their Process, a changed basis rebuilds them all."""

from __future__ import annotations

from dataclasses import replace

from clustertop.sources.ssh.proc_table import ProcessRows
from clustertop.sources.ssh.sections import ProcRow, ProcsReading

GIB = 1024**3


def _reading(btime: float, *rows: tuple[ProcRow, str, str]) -> ProcsReading:
    return ProcsReading(
        btime=btime,
        rows={row.pid: replace(row, user=user, command=command) for row, user, command in rows},
    )


def test_unchanged_rows_keep_their_process_and_a_new_memory_total_redoes_the_percent() -> None:
    table = ProcessRows(page_size=4096)
    python = ProcRow(pid=4242, cpu_percent=12.5, rss_pages=262144, start_ticks=500,
                     container_id=None, comm="python")  # fmt: skip
    kworker = ProcRow(pid=7, cpu_percent=None, rss_pages=0, start_ticks=10,
                      container_id=None, comm="kworker/0:1")  # fmt: skip
    first = _reading(1.7e9, (python, "alice", "python train.py"), (kworker, "root", ""))
    one = table.build(first, 16 * GIB, [], lambda ticks: round(1.7e9 + ticks / 100, 2))
    assert [(p.pid, p.user, p.command, p.memory_rss, p.memory_percent) for p in one] == [
        (4242, "alice", "python train.py", GIB, 6.25),
        (7, "root", "[kworker/0:1]", 0, 0.0),
    ]
    assert one[0].start_time == 1.7e9 + 5.0
    again = table.build(first, 16 * GIB, [], lambda ticks: round(1.7e9 + ticks / 100, 2))
    assert again[0] is one[0] and again[1] is one[1]
    busier = ProcRow(pid=4242, cpu_percent=99.0, rss_pages=262144, start_ticks=500,
                     container_id=None, comm="python")  # fmt: skip
    moved = _reading(1.7e9, (busier, "alice", "python train.py"), (kworker, "root", ""))
    later = table.build(moved, 16 * GIB, [], lambda ticks: round(1.7e9 + ticks / 100, 2))
    assert later[0].cpu_percent == 99.0 and later[1] is one[1]
    bigger = table.build(moved, 32 * GIB, [], lambda ticks: round(1.7e9 + ticks / 100, 2))
    assert [p.memory_percent for p in bigger] == [3.125, 0.0]
