"""`clustertop report` as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any

from clustertop.store.report import Report
from clustertop.util.textsafe import printable

CSV_COLUMNS = (
    "kind",
    "name",
    "held_gpu_hours",
    "busy_gpu_hours",
    "idle_gpu_hours",
    "peak_gpus",
    "up_hours",
    "down_hours",
    "gpu_util_percent",
    "cpu_percent",
    "host",
    "started",
    "last",
    "stale_hours",
    "held_instance_hours",
    "busy_instance_hours",
    "idle_instance_hours",
)
"""Columns of --csv: one row per owner, host and stale container (`kind` says which)."""


def iso(t: float) -> str:
    """UTC time as ISO 8601 with seconds."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(value: float) -> float:
    return round(value, 3)


def _maybe(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def report_json(report: Report) -> dict[str, Any]:
    """The report as plain data (`--json`)."""
    return {
        "schema": 2,
        "since": iso(report.since),
        "until": iso(report.until),
        "owners": [
            {
                "owner": o.owner,
                "held_gpu_hours": _hours(o.held_h),
                "busy_gpu_hours": _hours(o.busy_h),
                "idle_gpu_hours": _hours(o.idle_h),
                "peak_gpus": o.peak_gpus,
                "held_instance_hours": _hours(o.held_instance_h),
                "busy_instance_hours": _hours(o.busy_instance_h),
                "idle_instance_hours": _hours(o.idle_instance_h),
            }
            for o in report.owners
        ],
        "hosts": [
            {
                "host": h.host,
                "up_hours": _hours(h.up_h),
                "down_hours": _hours(h.down_h),
                "gpu_util_percent": _maybe(h.gpu_util),
                "cpu_percent": _maybe(h.cpu),
            }
            for h in report.hosts
        ],
        "stale": [
            {
                "host": s.host,
                "container": s.container,
                "started": iso(s.started),
                "last": iso(s.last),
                "hours": _hours(s.hours),
            }
            for s in report.stale
        ],
    }


def report_csv(report: Report) -> str:
    """The report as CSV (`--csv`), one header line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    blank = [""] * len(CSV_COLUMNS)
    for o in report.owners:
        writer.writerow(
            [
                "owner",
                o.owner,
                _hours(o.held_h),
                _hours(o.busy_h),
                _hours(o.idle_h),
                o.peak_gpus,
                *blank[6:14],
                _hours(o.held_instance_h),
                _hours(o.busy_instance_h),
                _hours(o.idle_instance_h),
            ]
        )
    for h in report.hosts:
        writer.writerow(
            [
                "host",
                h.host,
                *blank[2:6],
                _hours(h.up_h),
                _hours(h.down_h),
                _text(_maybe(h.gpu_util)),
                _text(_maybe(h.cpu)),
                *blank[10:],
            ]
        )
    for s in report.stale:
        writer.writerow(
            [
                "stale",
                s.container,
                *blank[2:10],
                s.host,
                iso(s.started),
                iso(s.last),
                _hours(s.hours),
                *blank[14:],
            ]
        )
    return out.getvalue()


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _row(cells: list[str], widths: list[int], left: int) -> str:
    """Text columns (the first `left`) to the left, figures to the right."""
    padded = [
        cell.ljust(width) if n < left else cell.rjust(width)
        for n, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(padded).rstrip()


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [_row(header, widths, left), *(_row(r, widths, left) for r in rows)]


def report_table(report: Report) -> str:
    """The report for people: owners, hosts, then the longest-stale containers."""
    lines = [f"History {iso(report.since)} .. {iso(report.until)}", ""]
    if not report.owners and not report.hosts:
        return "\n".join([*lines, "Nothing recorded in this span."]) + "\n"
    gpu_owners = [o for o in report.owners if o.held_h > 0 or not o.held_instance_h]
    owners = [
        [
            printable(o.owner),
            f"{o.held_h:.1f}",
            f"{o.busy_h:.1f}",
            f"{o.idle_h:.1f}",
            str(o.peak_gpus),
        ]
        for o in gpu_owners
    ]
    if owners:
        lines += _table(["OWNER", "GPU-H HELD", "GPU-H BUSY", "GPU-H IDLE", "PEAK GPUS"], owners)
    elif not report.owners:
        lines.append("No GPU was held by anyone in this span.")
    instances = _instance_table(report)
    lines += instances if owners else instances[1:]  # the blank line separates tables only
    hosts = [
        [
            printable(h.host),
            f"{h.up_h:.1f}",
            f"{h.down_h:.1f}",
            "-" if h.gpu_util is None else f"{h.gpu_util:.0f}%",
            "-" if h.cpu is None else f"{h.cpu:.0f}%",
        ]
        for h in report.hosts
    ]
    lines += ["", *_table(["HOST", "UP H", "DOWN H", "GPU UTIL", "CPU"], hosts)]
    if report.stale:
        stale = [
            [printable(s.container), printable(s.host), iso(s.started), f"{s.hours:.1f}"]
            for s in report.stale
        ]
        header = ["STALE CONTAINER", "HOST", "IDLE SINCE", "HOURS"]
        lines += ["", *_table(header, stale, left=3)]
    return "\n".join(lines) + "\n"


def _instance_table(report: Report) -> list[str]:
    """MIG instance-hours per owner, only when some instance was held (not in GPU-hours)."""
    rows = [
        [
            printable(o.owner),
            f"{o.held_instance_h:.1f}",
            f"{o.busy_instance_h:.1f}",
            f"{o.idle_instance_h:.1f}",
        ]
        for o in sorted(report.owners, key=lambda o: (-o.held_instance_h, o.owner))
        if o.held_instance_h > 0
    ]
    if not rows:
        return []
    header = ["OWNER", "MIG INST-H HELD", "MIG INST-H BUSY", "MIG INST-H IDLE"]
    return ["", *_table(header, rows)]


def dumps(report: Report) -> str:
    """`--json` text."""
    return json.dumps(report_json(report), indent=1, ensure_ascii=False) + "\n"
