"""Block-character charts: resampling history points into columns, sparklines, column charts."""

from __future__ import annotations

from clustertop.ui.widgets.charts import (
    aligned_end,
    column_chart,
    column_span,
    mean_columns,
    resample,
    sparkline,
    time_axis,
)


def test_resample_averages_known_points_per_column_and_drops_the_rest() -> None:
    points = [(0.0, 10.0), (5.0, 30.0), (10.0, None), (15.0, 50.0), (40.0, 99.0), (-1.0, 7.0)]
    # Four columns of 10 s ending at 40: [0,10) [10,20) [20,30) [30,40); 40 is the edge, out.
    assert resample(points, end=40.0, span=10.0, width=4) == [20.0, 50.0, None, None]


def test_columns_stay_put_between_ticks() -> None:
    span = column_span(3600.0, 12)
    assert span == 300.0
    assert aligned_end(1000.0, span) == aligned_end(1199.0, span) == 1200.0


def test_sparkline_scales_to_top_and_keeps_zero_visible() -> None:
    assert sparkline([0.0, 50.0, 100.0, None, 250.0], 100.0) == "▁▄█ █"


def test_column_chart_stacks_eighths_from_the_bottom() -> None:
    assert column_chart([100.0, 50.0, 75.0, None, 0.0], 100.0, 2) == ["█ ▄  ", "███ ▁"]


def test_mean_columns_ignores_unknown_values() -> None:
    assert mean_columns([[10.0, None, None], [30.0, 40.0, None]]) == [20.0, 40.0, None]
    assert mean_columns([]) == []


def test_time_axis_spans_the_width() -> None:
    axis = time_axis(40, 3600.0)
    assert len(axis) == 40
    assert axis.startswith("60m ago") and axis.endswith("now") and "30m" in axis
