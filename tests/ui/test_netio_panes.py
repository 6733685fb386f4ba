"""Network column, Network and Ports panes, disk I/O in the Disks pane, `o` for ssh -L."""

from __future__ import annotations

from textual.pilot import Pilot

from clustertop.model import Disk
from clustertop.model.network import (
    DiskCounters,
    DiskIo,
    Interface,
    InterfaceKind,
    ListeningPort,
    NetCounters,
)
from clustertop.ui import ClusterTopApp
from clustertop.ui.screens.host import HostScreen
from tests.ui.helpers import cell_text, host, scripted_app, until, wait_rows

SIZE = (160, 48)
MIB = 2**20


def _interface(name: str, kind: InterfaceKind, rx: float | None, tx: float | None) -> Interface:
    return Interface(NetCounters(name, 10, 1, 2, 3, 20, 4, 0, 5), kind, rx, tx)


def _port(port: int, **fields: object) -> ListeningPort:
    values: dict[str, object] = {
        "protocol": "tcp",
        "address": "0.0.0.0",
        "port": port,
        "uid": 1000,
        "inode": port,
        "user": "alice",
    }
    values.update(fields)
    return ListeningPort(**values)  # type: ignore[arg-type]


NETIO = {
    "interfaces": (
        _interface("veth12ab", InterfaceKind.VIRTUAL, 900 * MIB, 900 * MIB),
        _interface("eth0", InterfaceKind.PHYSICAL, 1.5 * MIB, 2048.0),
        _interface("lo", InterfaceKind.LOOPBACK, 900 * MIB, 900 * MIB),
        _interface("mlx5_0/1", InterfaceKind.INFINIBAND, 10 * MIB, None),
    ),
    "disk_io": (
        DiskIo(DiskCounters("nvme0n1p1", 0, 0, 0, 0, 0), 25 * MIB, 3 * MIB, 100.0, 20.0, 97.0),
    ),
    "disks": (Disk("/data", "/dev/nvme0n1p1", "ext4", 1000, 600, 400),),
    "ports": (
        _port(
            8888,
            container="alice-jupyter",
            pid=4000,
            process="jupyter-lab",
            reach_address="172.17.0.2",
        ),
        _port(22, uid=0, user="root", note="not permitted", reach_address="127.0.0.1"),
        _port(6006, address="127.0.0.1", container="bob-tb", reach_address=None),
    ),
}


async def _open(app: ClusterTopApp, pilot: Pilot[None], name: str) -> HostScreen:
    await wait_rows(app.grid.table, 1)
    app.go_to_host(name)
    await until(
        lambda: isinstance(app.screen, HostScreen) and app.screen.is_mounted, f"{name} screen"
    )
    await pilot.pause()  # let the new screen finish mounting before pressing keys
    assert isinstance(app.screen, HostScreen)
    return app.screen


async def test_grid_sums_physical_and_infiniband_traffic_only() -> None:
    app, _ = scripted_app([host("a", **NETIO), host("b")])
    async with app.run_test(size=(200, 20)) as pilot:
        await wait_rows(app.grid.table, 2)
        await pilot.pause()
        assert cell_text(app.grid.table, "a", "net") == "12M↓ 2.0K↑"
        assert cell_text(app.grid.table, "b", "net") == "N/A"


async def test_network_pane_groups_loopback_and_veths_after_the_nics() -> None:
    app, _ = scripted_app([host("a", **NETIO)])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(app, pilot, "a")
        await pilot.press("7")
        assert screen.current_pane.id == "network"
        table = screen.current_table
        await until(lambda: table.row_count == 4, "4 interfaces")
        table.set_sort(1)  # by kind: physical, infiniband, loopback, virtual
        await pilot.pause()
        names = [cell.plain for cell in table.get_column("name")]
        assert names == ["eth0", "mlx5_0/1", "lo", "veth12ab"]
        assert cell_text(table, "eth0", "rx") == "1.5 MiB/s"
        assert cell_text(table, "mlx5_0/1", "tx") == "N/A"
        assert cell_text(table, "eth0", "txdrop") == "5"
        await pilot.press("5")
        disks = screen.current_table
        assert cell_text(disks, "/data", "read") == "25.0 MiB/s"
        assert cell_text(disks, "/data", "iops") == "120"
        assert cell_text(disks, "/data", "busy").endswith("97%")


async def test_o_on_a_port_copies_its_ssh_line_and_says_when_none_exists() -> None:
    app, _ = scripted_app([host("gpu-7", **NETIO)])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await _open(app, pilot, "gpu-7")
        await pilot.press("8")
        table = screen.current_table
        await until(lambda: table.row_count == 3, "3 ports")
        assert cell_text(table, ":tcp:22", "process") == "not permitted"
        assert table.go_to("alice-jupyter:tcp:8888")
        await pilot.press("o")
        assert app.clipboard == "ssh -N -L 8888:172.17.0.2:8888 gpu-7"
        assert table.go_to("bob-tb:tcp:6006")
        await pilot.press("o")
        await until(
            lambda: any("not reachable" in str(t.render()) for t in app.screen.query("Toast")),
            "the no-line notice",
        )
        assert isinstance(app.screen, HostScreen)  # `o` did not open a shell
