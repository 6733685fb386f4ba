"""Every binding id a user may remap in the config's [keys] (e.g. 'grid.sort')."""

from __future__ import annotations

from textual.binding import Binding

from clustertop.ui.app import ClusterTopApp
from clustertop.ui.screens.alerts import AlertsScreen
from clustertop.ui.screens.cluster_view import ClusterView
from clustertop.ui.screens.confirm import ConfirmScreen
from clustertop.ui.screens.free import FreeGpusScreen
from clustertop.ui.screens.grid import GridScreen, HostGridTable
from clustertop.ui.screens.help import HelpScreen
from clustertop.ui.screens.host import HostScreen
from clustertop.ui.screens.logs import LogsScreen
from clustertop.ui.screens.users import UsersScreen
from clustertop.ui.widgets.table_sync import KeyedTable


def binding_ids() -> list[str]:
    """Every binding id `AppOptions.keys` may remap (e.g. 'grid.sort', 'host.pane.gpus')."""
    classes = (
        ClusterTopApp,
        GridScreen,
        HostGridTable,
        HostScreen,
        KeyedTable,
        HelpScreen,
        ConfirmScreen,
        LogsScreen,
        ClusterView,
        UsersScreen,
        FreeGpusScreen,
        AlertsScreen,
    )
    ids = [
        binding.id
        for cls in classes
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", []))
        if binding.id
    ]
    return list(dict.fromkeys(ids))


__all__ = ["binding_ids"]
