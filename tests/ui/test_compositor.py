"""The grid's compositor renders only an update's lines, and draws each of them exactly as
Textual's own compositor does (Pilot, a live grid's ticks, a cursor move and a filter)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

from clustertop.ui import AppOptions, ClusterTopApp
from clustertop.ui.compositor import LineCropCompositor
from tests.ui.helpers import NOW, ScriptedSource, host, until, wait_rows, widget_text

Chops = Sequence[Mapping[int, Strip]]


def _textual_and_ours(passes: list[tuple[Region, Chops, Chops]]) -> Any:
    """A _render_chops that renders each update twice, as Textual's own _get_renders does and
    as LineCropCompositor's does, and keeps both."""
    render_chops, cropped = Compositor._render_chops, LineCropCompositor._get_renders

    def both(self: Compositor, crop: Region, is_line: Callable[[int], bool]) -> Chops:
        LineCropCompositor._get_renders = Compositor._get_renders  # type: ignore[method-assign]
        try:
            expected = render_chops(self, crop, is_line)
        finally:
            LineCropCompositor._get_renders = cropped  # type: ignore[method-assign]
        got = render_chops(self, crop, is_line)
        passes.append((crop, got, expected))
        return got

    return both


async def test_each_update_draws_what_textuals_compositor_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes: list[tuple[Region, Chops, Chops]] = []
    monkeypatch.setattr(LineCropCompositor, "_render_chops", _textual_and_ours(passes))
    names = [f"h{i:02d}" for i in range(10)]
    source = ScriptedSource([host(name, cpu=10.0) for name in names])
    app = ClusterTopApp(source, options=AppOptions(clock=lambda: NOW))
    async with app.run_test(size=(160, 48)) as pilot:
        table = app.grid.table
        assert isinstance(app.grid._compositor, LineCropCompositor)
        await wait_rows(table, len(names))
        for cpu in (20.0, 30.0, 40.0):
            for name in names:
                source.emit(host(name, cpu=cpu))
            await until(lambda c=cpu: f"{c:.0f}%" in widget_text(table), f"{cpu:.0f}% shown")
        await pilot.press("down", "down")
        await pilot.press("slash", "h", "0", "3")
        await until(lambda: len(table.ordered_keys()) == 1, "filtered to h03")
        await pilot.pause()
    assert passes, "the grid screen's updates went through LineCropCompositor"
    assert [crop for crop, _, _ in passes if crop.height < 48], "updates of a few lines"
    for crop, got, expected in passes:
        assert list(map(dict, got)) == list(map(dict, expected)), crop
