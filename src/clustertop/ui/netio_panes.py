"""Host screen panes for network interfaces and listening ports, and the Disks pane's I/O cells."""

from __future__ import annotations

import shlex

from clustertop.model import HostSnapshot
from clustertop.model.network import Interface, InterfaceKind, ListeningPort
from clustertop.ui.panes import Pane, PaneContext, belongs_to_cell
from clustertop.ui.row_cells import dash_or, rate_cell
from clustertop.ui.widgets.cells import (
    BAD,
    DIM,
    WARN,
    Cell,
    number_cell,
    text_cell,
)
from clustertop.ui.widgets.table_sync import ColumnSpec, RowData
from clustertop.util.units import NA

NETWORK_PANE = "network"
"""Pane id of the interfaces."""
PORTS_PANE = "ports"
"""Pane id of the listening sockets (`o` prints the ssh -L line of one)."""

_KIND_ORDER = {
    InterfaceKind.PHYSICAL: 0.0,
    InterfaceKind.INFINIBAND: 1.0,
    InterfaceKind.LOOPBACK: 2.0,
    InterfaceKind.VIRTUAL: 3.0,
    InterfaceKind.CONTAINER: 4.0,
}


def _count(value: int) -> Cell:
    return number_cell(str(value), float(value), BAD if value else "")


def _interface_cells(interface: Interface) -> tuple[Cell, ...]:
    c = interface.counters
    group = _KIND_ORDER[interface.kind]
    return (
        text_cell(c.name, "" if group < 2 else DIM, sort_key=(group, c.name)),
        text_cell(interface.kind.value, sort_key=(group,)),
        rate_cell(interface.rx_rate),
        rate_cell(interface.tx_rate),
        _count(c.rx_errors),
        _count(c.tx_errors),
        _count(c.rx_drops),
        _count(c.tx_drops),
    )


def _interface_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [RowData(_interface_key(i), _interface_cells(i), i) for i in snap.interfaces]


def _interface_key(interface: Interface) -> str:
    # A container may bear an interface's name: its row gets a key of its own.
    kind = interface.kind
    return f"container:{interface.name}" if kind is InterfaceKind.CONTAINER else interface.name


NETWORK_COLUMNS = (
    ColumnSpec("name", "Interface", 18, descending=False),
    ColumnSpec("kind", "Kind", 10, descending=False),
    ColumnSpec("rx", "Receive", 14),
    ColumnSpec("tx", "Send", 14),
    ColumnSpec("rxerr", "Rx errors", 9),
    ColumnSpec("txerr", "Tx errors", 9),
    ColumnSpec("rxdrop", "Rx drops", 9),
    ColumnSpec("txdrop", "Tx drops", 9),
)


def _port_cells(port: ListeningPort) -> tuple[Cell, ...]:
    process = port.process if port.pid is None else f"{port.process} ({port.pid})"
    return (
        number_cell(str(port.port), float(port.port)),
        text_cell(port.protocol),
        text_cell(port.address),
        text_cell(process) if process else text_cell(port.note or NA, WARN),
        text_cell(port.user or str(port.uid)),
        dash_or(port.owner),
        belongs_to_cell(None, port.attribution) if port.attribution else Cell("-", DIM),
        dash_or(port.container),
        dash_or(port.reach_address),
    )


def _port_rows(snap: HostSnapshot, ctx: PaneContext) -> list[RowData]:
    return [
        RowData(f"{p.container or ''}:{p.protocol}:{p.inode}", _port_cells(p), p)
        for p in snap.ports
    ]


PORT_COLUMNS = (
    ColumnSpec("port", "Port", 6, descending=False),
    ColumnSpec("proto", "Proto", 5, descending=False),
    ColumnSpec("address", "Address", 16, descending=False),
    ColumnSpec("process", "Process", 24, descending=False),
    ColumnSpec("user", "User", 10, descending=False),
    ColumnSpec("owner", "Owner", 10, descending=False),
    ColumnSpec("belongs", "Belongs to", 20, descending=False),
    ColumnSpec("container", "Container", 20, descending=False),
    ColumnSpec("reach", "Reach at", None, descending=False),
)

NETIO_PANES = (
    Pane(NETWORK_PANE, "Network", NETWORK_COLUMNS, _interface_rows),
    Pane(PORTS_PANE, "Ports", PORT_COLUMNS, _port_rows),
)
"""The panes this module adds to the host screen, in key order after History."""


def tunnel_line(host: str, port: ListeningPort) -> str | None:
    """The ready `ssh -L` line that brings the port to this machine, None when nothing on the
    host reaches it (bound to loopback inside a container, or a container without address)."""
    address = port.reach_address
    if address is None:
        return None
    target = f"[{address}]" if ":" in address else address
    return f"ssh -N -L {port.port}:{target}:{port.port} {shlex.quote(host)}"
