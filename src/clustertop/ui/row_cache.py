"""Grid rows kept per host and given again while only the host's reading times move on."""

from __future__ import annotations

from clustertop.model import HostSnapshot
from clustertop.model.unchanged import same_but_time
from clustertop.ui.columns import GridContext, host_row
from clustertop.ui.widgets.table_sync import RowData

_Kept = tuple[HostSnapshot, tuple[frozenset[str], int, float], RowData]


class HostRows:
    """host_row with each host's last row kept: a reading of 5,000 hosts where few changed
    then costs a comparison per host, and the table sees the same cells (nothing to redraw)."""

    def __init__(self) -> None:
        self._kept: dict[str, _Kept] = {}

    def row(self, snap: HostSnapshot, ctx: GridContext) -> RowData:
        """The grid row of `snap`: the kept one when it would be drawn the same."""
        # A down host, or one whose data is old, shows an age that moves with the clock.
        moving = not snap.is_up or ctx.now - snap.time > 2 * ctx.interval
        settings = (ctx.stale, ctx.rank, ctx.interval)
        kept = self._kept.get(snap.name)
        if kept is not None and not moving and kept[1] == settings and same_but_time(kept[0], snap):
            return kept[2]
        row = host_row(snap, ctx)
        if moving:
            self._kept.pop(snap.name, None)
        else:
            self._kept[snap.name] = (snap, settings, row)
        return row
