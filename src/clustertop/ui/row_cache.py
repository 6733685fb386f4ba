"""Grid rows kept per host and given again while only the host's reading times move on."""

from __future__ import annotations

from clustertop.model import HostSnapshot
from clustertop.model.unchanged import same_but_time
from clustertop.ui.columns import GridContext, host_row, next_row, with_state
from clustertop.ui.widgets.table_sync import RowData

_Kept = tuple[HostSnapshot, tuple[frozenset[str], int, float, bool], RowData]


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
        if kept is None or kept[1][:3] != settings:
            row = host_row(snap, ctx)
        elif not same_but_time(kept[0], snap):
            row = next_row(kept[0], kept[2], snap, ctx, no_age=not moving and not kept[1][3])
        elif not moving and not kept[1][3]:
            return kept[2]
        else:
            # Only the age moved (every second while readings lag, for 5,000 hosts at once
            # when a large fleet's readings take longer than two intervals): one cell.
            row = with_state(kept[2], snap, ctx)
        self._kept[snap.name] = (snap, (*settings, moving), row)
        return row
