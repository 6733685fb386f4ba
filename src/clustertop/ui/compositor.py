"""A compositor whose partial updates render only the lines that changed, not every widget whole."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual._compositor import Compositor
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip


class LineCropCompositor(Compositor):
    """Textual's Compositor (8.2), with each widget's render cropped to the update's lines.

    A partial update renders every widget that overlaps the changed region, and each of them
    whole: a live grid's tick changes its ten row lines, yet the screen (48 lines), the table
    (45), header, summary and footer were all rendered (from their caches, each line through
    the line filters) and all but the changed lines thrown away. Here a widget renders only
    the lines of the update's crop. The crop is applied to lines only (a line's columns stay
    as Textual cuts them), so every line drawn is the same as Textual's; tests/ui/
    test_compositor.py compares them on a live grid.
    """

    def _get_renders(
        self, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        top, height = crop.y, crop.height
        for widget, (region, clip) in self.visible_widgets.items():
            lines = clip.intersection(Region(clip.x, top, clip.width, height))
            x, y, width, rows = region.intersection(lines)
            if width and rows:
                yield (
                    region,
                    lines,
                    widget.render_lines(Region(x - region.x, y - region.y, width, rows)),
                )


def crop_updates_to_lines(screen: Screen[Any]) -> None:
    """Give a screen (before it is mounted) the line-cropping compositor."""
    screen._compositor = LineCropCompositor()
