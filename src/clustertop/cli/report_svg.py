"""`clustertop report --svg`: per-owner GPUs held over time as a stacked area chart, by hand."""

from __future__ import annotations

from xml.sax.saxutils import escape

from clustertop.cli.report_format import iso
from clustertop.store.report import Report
from clustertop.util.textsafe import printable

WIDTH, HEIGHT = 900, 420
"""Size of the drawing in pixels."""
_LEFT, _RIGHT, _TOP, _BOTTOM = 50, 170, 20, 40
_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)


def report_svg(report: Report) -> str:
    """An SVG document: one band per owner (mean GPUs held per bucket), stacked, with a legend."""
    owners = sorted(report.series, key=lambda o: -sum(report.series[o]))
    count = max((len(v) for v in report.series.values()), default=0)
    totals = [sum(report.series[o][i] for o in owners) for i in range(count)]
    top = max([1.0, *totals])
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(i: float) -> float:
        return _LEFT + plot_w * i / max(count, 1)

    def y(v: float) -> float:
        return _TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>GPUs held per owner, {iso(report.since)} to {iso(report.until)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
    ]
    base = [0.0] * count
    for n, owner in enumerate(owners):
        values = report.series[owner]
        upper = [b + values[i] for i, b in enumerate(base)]
        points = [
            f"{x(i):.1f},{y(upper[i]):.1f} {x(i + 1):.1f},{y(upper[i]):.1f}" for i in range(count)
        ]
        points += [
            f"{x(i + 1):.1f},{y(base[i]):.1f} {x(i):.1f},{y(base[i]):.1f}"
            for i in reversed(range(count))
        ]
        colour = _COLOURS[n % len(_COLOURS)]
        parts.append(
            f'<polygon fill="{colour}" points="{" ".join(points)}">'
            f"<title>{escape(printable(owner))}</title></polygon>"
        )
        ly = _TOP + 16 * n + 10
        parts.append(
            f'<rect x="{WIDTH - _RIGHT + 10}" y="{ly - 9}" width="10" height="10" '
            f'fill="{colour}"/><text x="{WIDTH - _RIGHT + 25}" y="{ly}">'
            f"{escape(printable(owner))}</text>"
        )
        base = upper
    parts += _axes(top, plot_w, plot_h, report)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _axes(top: float, plot_w: int, plot_h: int, report: Report) -> list[str]:
    bottom = _TOP + plot_h
    return [
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_LEFT + plot_w}" y2="{bottom}" stroke="black"/>',
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}" stroke="black"/>',
        f'<text x="{_LEFT - 5}" y="{_TOP + 4}" text-anchor="end">{top:.1f}</text>',
        f'<text x="{_LEFT - 5}" y="{bottom}" text-anchor="end">0</text>',
        f'<text x="{_LEFT}" y="{bottom + 16}">{iso(report.since)}</text>',
        f'<text x="{_LEFT + plot_w}" y="{bottom + 16}" text-anchor="end">'
        f"{iso(report.until)}</text>",
        f'<text x="{_LEFT + plot_w / 2}" y="{bottom + 32}" text-anchor="middle">'
        "GPUs held (mean per bucket), by owner</text>",
    ]
