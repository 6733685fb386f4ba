"""Host screen actions on network and disk rows: the ssh -L line of a port, du on a mount."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from clustertop.model import Disk, HostSnapshot
from clustertop.model.network import ListeningPort
from clustertop.ui.clipboard import copy_text
from clustertop.ui.netio_panes import tunnel_line
from clustertop.ui.screens.actions import ActionController
from clustertop.ui.screens.disk_usage import DiskUsageCache, DiskUsageScreen
from clustertop.util.textsafe import printable


def show_tunnel_line(app: App[Any], host: str, port: ListeningPort) -> None:
    """Copy and show the port's `ssh -L` line, or say why there is none."""
    line = tunnel_line(host, port)
    if line is not None:
        copy_text(app, line, "ssh -L line")
        return
    where = f"in container {port.container}" if port.container else "here"
    text = f"port {port.port} ({port.address} {where}) is not reachable from the host"
    app.notify(printable(text), title="No ssh -L line", severity="warning", markup=False)


def open_disk_usage(
    app: App[Any],
    controller: ActionController | None,
    snap: HostSnapshot | None,
    disk: Disk,
    *,
    cache: DiskUsageCache,
    clock: Callable[[], float],
) -> None:
    """Open what fills `disk` (du runs through the action runner, which --readonly removes)."""
    if snap is None or controller is None or controller.runner is None or controller.readonly:
        app.notify("du needs a way to run commands on the host (not with --readonly)")
        return
    logs = {c.name: c.log_size for c in snap.containers if c.log_size}
    usage = DiskUsageScreen(
        runner=controller.runner,
        host=snap.name,
        disk=disk,
        cache=cache,
        clock=clock,
        log_sizes=logs,
    )
    app.push_screen(usage)
